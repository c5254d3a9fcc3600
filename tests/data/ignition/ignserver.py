#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/data/ignition/ignserver.py - loopback HTTP(S) server for provision fetch tests: serves
# configs and resources from a directory, and speaks AWS IMDSv2 (token, then user-data).
# Binds 127.0.0.1 on a free port and writes the port to --port-file. Routes:
#   GET /f/NAME                       the file DOCROOT/NAME (404 if missing)
#   GET /hdr/NAME                     same, but 403 unless "X-Secret: letmein" was sent
#   GET /zeros/N                      N zero bytes (for size limits)
#   GET /redirect/PATH                302 to /PATH
#   GET /status/N                     status N
#   PUT /latest/api/token             IMDSv2 token (needs X-aws-ec2-metadata-token-ttl-seconds)
#   GET /2019-10-01/user-data         DOCROOT/user-data with the token, 401 without, 404 if none
#   GET http://HOST/f/NAME            (absolute form, as sent to a proxy) the file, and a line
#                                     "HOST/f/NAME" appended to DOCROOT/proxy.log
import argparse, os, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = b"imds-token-42"

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def file(self, name):
        p = os.path.join(self.server.docroot, os.path.basename(name))
        if not os.path.isfile(p):
            return self.send(404, b"not found\n")
        with open(p, "rb") as f:
            self.send(200, f.read())

    def do_GET(self):
        if self.path.startswith("http://"):
            rest = self.path[7:]
            with open(os.path.join(self.server.docroot, "proxy.log"), "a") as f:
                f.write(rest + "\n")
            self.path = rest[rest.index("/"):]
        parts = self.path.split("/")
        if self.path.startswith("/f/"):
            return self.file(self.path[3:])
        if self.path.startswith("/hdr/"):
            if self.headers.get("X-Secret") != "letmein":
                return self.send(403, b"forbidden\n")
            return self.file(self.path[5:])
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/zeros/"):
            return self.send(200, bytes(int(parts[2])))
        if self.path.startswith("/status/"):
            return self.send(int(parts[2]), b"status\n")
        if self.path == "/2019-10-01/user-data":
            if self.headers.get("X-aws-ec2-metadata-token", "").encode() != TOKEN:
                return self.send(401, b"no token\n")
            return self.file("user-data")
        self.send(404, b"no route\n")

    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n:
            self.rfile.read(n)
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(200, TOKEN, "text/plain")
        self.send(400, b"bad token request\n")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docroot", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    srv.docroot = a.docroot
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()

if __name__ == "__main__":
    sys.exit(main())
