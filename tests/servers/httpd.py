#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/servers/httpd.py - loopback HTTP/1.1 (and HTTPS) test server for lib/http tests.
# Speaks real HTTP with keep-alive; binds 127.0.0.1 on a free port and writes the port to
# --port-file. Routes (all GET unless said):
#   /hello                  200 "hello\n"
#   /echo                   any method: JSON of method, path, headers, body
#   /status/N               status N with body "status N\n"
#   /redirect/N             302 chain of N hops ending at /hello
#   /loop                   302 to itself
#   /slowredirect/N         waits 400 ms, then 302 to /slowredirect/N-1 (/hello at 0)
#   /location?to=URL        302 to URL (anything, e.g. file:///etc/passwd or http://...)
#   /data/N                 N bytes of a fixed pattern; honours Range: bytes=A-
#   /norange/N              same bytes, ignores Range (always 200)
#   /badrange/N             answers a Range with a 206 starting at the wrong byte
#   /big/N                  N bytes without Content-Length (close-delimited)
#   /truncate/N             announces N bytes, sends N/2, closes
#   /stall/N                announces N bytes, sends N/2, then sends nothing until killed
#   /flaky/KEY/K            the first K requests for KEY get 503, then /data/1000
#   /retry-after            429 with Retry-After: 0
#   absolute-form request   (as sent to a proxy) 200 "proxied URL\n" with X-Proxied: 1
#   CONNECT host:port       (as sent to a proxy for https) a tunnel to 127.0.0.1:port; the
#                           tunnels opened so far are counted in the X-Tunnels header of /hello
import argparse
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs


def pattern(n, start=0):
    return bytes(((i * 7 + 3) & 0xFF) for i in range(start, n))


def parse_range(value, size):
    """Start offset of a 'bytes=A-' or 'bytes=A-B' range, or None."""
    if not value or not value.startswith("bytes="):
        return None
    spec = value[6:].split(",")[0].strip()
    first, _, last = spec.partition("-")
    if not first.isdigit():
        return None
    a = int(first)
    b = int(last) if last.isdigit() else size - 1
    if a >= size or b < a:
        return (a, -1)
    return (a, min(b, size - 1))


def send_ranged(handler, data, honour_range=True, skew=0):
    size = len(data)
    rng = parse_range(handler.headers.get("Range"), size) if honour_range else None
    if rng is None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.send_header("Accept-Ranges", "bytes")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
        return
    a, b = rng
    if b < 0:
        handler.send_response(416)
        handler.send_header("Content-Range", "bytes */%d" % size)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    a2 = max(0, a - skew)
    body = data[a2:b + 1]
    handler.send_response(206)
    handler.send_header("Content-Range", "bytes %d-%d/%d" % (a2, b, size))
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flatctl-test-httpd"
    flaky = {}
    flaky_lock = threading.Lock()
    tunnels = 0

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("httpd: " + fmt % args + "\n")

    def reply(self, status, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("http://") or self.path.startswith("https://"):
            return self.reply(200, "proxied %s\n" % self.path, [("X-Proxied", "1")])
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        q = parse_qs(url.query)
        route = parts[0] if parts else ""
        arg = parts[1] if len(parts) > 1 else ""
        if route == "hello":
            return self.reply(200, "hello\n", [("Content-Type", "text/plain"), ("X-Test", "yes"),
                                                ("X-Tunnels", str(Handler.tunnels))])
        if route == "echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body.decode("latin-1")}
            return self.reply(200, json.dumps(doc, sort_keys=True), [("Content-Type", "application/json")])
        if route == "status":
            return self.reply(int(arg), "status %s\n" % arg)
        if route == "redirect":
            n = int(arg)
            to = "/hello" if n <= 0 else "/redirect/%d" % (n - 1)
            return self.reply(302, "", [("Location", to)])
        if route == "slowredirect":
            n = int(arg)
            time.sleep(0.4)
            to = "/hello" if n <= 0 else "/slowredirect/%d" % (n - 1)
            return self.reply(302, "", [("Location", to)])
        if route == "redirect307":
            return self.reply(307, "", [("Location", "/echo")])
        if route == "loop":
            return self.reply(302, "", [("Location", "/loop")])
        if route == "location":
            return self.reply(302, "", [("Location", q["to"][0])])
        if route == "data":
            return send_ranged(self, pattern(int(arg)))
        if route == "norange":
            return send_ranged(self, pattern(int(arg)), honour_range=False)
        if route == "badrange":
            return send_ranged(self, pattern(int(arg)), skew=10)
        if route == "big":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(pattern(int(arg)))
            self.close_connection = True
            return
        if route in ("truncate", "stall"):
            n = int(arg)
            data = pattern(n)
            rng = parse_range(self.headers.get("Range"), n)
            if rng and rng[1] >= 0:
                # a resumed request gets the rest in full
                return send_ranged(self, data)
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.wfile.write(data[: n // 2])
            self.wfile.flush()
            if route == "stall":
                self.server.stop.wait()
            self.close_connection = True
            return
        if route == "flaky":
            key, k = arg, int(parts[2])
            with Handler.flaky_lock:
                seen = Handler.flaky.get(key, 0)
                Handler.flaky[key] = seen + 1
            if seen < k:
                return self.reply(503, "try later\n")
            return send_ranged(self, pattern(1000))
        if route == "retry-after":
            return self.reply(429, "slow down\n", [("Retry-After", "0")])
        return self.reply(404, "not found\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        except (OSError, ValueError):
            return self.reply(502, "cannot connect\n")
        with Handler.flaky_lock:
            Handler.tunnels += 1
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        client = self.connection
        socks = [client, upstream]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 30)
                if not ready:
                    break
                done = False
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        done = True
                        break
                    (upstream if s is client else client).sendall(data)
                if done:
                    break
        except OSError:
            pass
        finally:
            upstream.close()
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # clients hang up on purpose (aborts, size caps, timeouts): not worth a traceback
        if self.verbose:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca", help="require a client certificate signed by this CA")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    srv.verbose = a.verbose
    srv.stop = threading.Event()
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(a.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    finally:
        srv.stop.set()


if __name__ == "__main__":
    main()
