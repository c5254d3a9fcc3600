#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/servers/omaha.py - loopback Omaha v3 server for tests, answering in Nebraska's response
# shape (docs/update.md 4.3) and serving payloads with Range support.
#
#   omaha.py --port-file F [--payload FILE] [--version V] [--config JSON] [--log FILE] ...
#
# POST (any path)        Omaha request -> response; every request is appended to --log as one
#                        JSON line: {"installsource", "app": {attrs}, "ping", "updatecheck",
#                        "events": [{"eventtype", "eventresult", "errorcode", "previousversion"}]}
# GET /payloads/NAME     the payload (or an --extension) with Range: bytes=A- support
# GET /requests          the log as a JSON list
#
# Behaviour comes from the options, overridden per request by the JSON object in --config if
# that file exists (tests rewrite it between runs). Keys, same names as the options:
#   status          "ok" (offer the payload), "noupdate", or "uc:<s>" for <updatecheck status=s>;
#                   any other value is sent as <app status=...> (Nebraska refusals)
#   version, appid  manifest version; appid echoed when the request has none
#   sha256_encoding "hex" (Nebraska), "base64" (go-omaha) or "none" for package/@hash_sha256
#   url_base        codebase (default: this server's /payloads/)
#   http_status     answer Omaha requests with this HTTP status and no body
#   response_file   answer Omaha requests with this file verbatim
#   delta           send IsDeltaPayload="true"
#   poll_interval   add PollInterval=N to <updatecheck>
#   truncate_after  payload downloads send at most this many bytes per connection, then close
#   stall_after     payload downloads send this many bytes, then nothing until the server stops
#   payload_status  answer payload downloads with this HTTP status
#   payload_fail    the first N payload downloads get 503 (counted per server run)
#   payload_extra   append this many bytes beyond the announced size (a lying server)
#   ignore_range    answer range requests with 200 and the whole payload (docs/update.md 4.1)
#   payload_backoff send DisablePayloadBackoff="false" (default "true", as Nebraska)
#   max_failures    add MaxFailureCountPerUrl=N to the postinstall action
#   payload_auth    "USER:PASSWORD": payload downloads need this HTTP basic auth (401 otherwise)
# --get-log FILE: every payload download is appended as one JSON line:
#   {"name", "range", "auth": "none"|"ok"|"wrong", "status"}
import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import quoteattr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd import parse_range  # noqa: E402

DEFAULT_APPID = "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"


def file_facts(path):
    data = open(path, "rb").read()
    return {
        "name": os.path.basename(path),
        "path": path,
        "size": len(data),
        "sha1_b64": base64.b64encode(hashlib.sha1(data).digest()).decode(),
        "sha256_b64": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "sha256_hex": hashlib.sha256(data).hexdigest(),
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flatctl-test-omaha"

    def log_message(self, fmt, *args):
        if self.server.args.verbose:
            sys.stderr.write("omaha: " + fmt % args + "\n")

    def conf(self):
        a = self.server.args
        c = {
            "status": a.status, "version": a.version, "appid": a.appid,
            "sha256_encoding": a.sha256_encoding, "url_base": a.url_base,
            "http_status": a.http_status, "response_file": a.response_file,
            "delta": a.delta, "poll_interval": a.poll_interval,
            "truncate_after": a.truncate_after, "stall_after": None,
            "payload_status": None, "payload_fail": 0, "payload_extra": 0,
        }
        if a.config and os.path.exists(a.config):
            with open(a.config) as f:
                c.update(json.load(f))
        return c

    def reply(self, status, body=b"", ctype="text/xml"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/requests":
            with self.server.lock:
                return self.reply(200, json.dumps(self.server.requests), "application/json")
        if self.path.startswith("/payloads/"):
            name = self.path[len("/payloads/"):]
            for facts in self.server.files:
                if facts["name"] == name:
                    return self.send_payload(facts)
        return self.reply(404, "not found\n", "text/plain")

    do_HEAD = do_GET

    def log_get(self, facts, auth, status):
        if not self.server.args.get_log:
            return
        entry = {"name": facts["name"], "range": self.headers.get("Range"), "auth": auth,
                 "status": status}
        with self.server.lock:
            with open(self.server.args.get_log, "a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    def check_auth(self, c):
        """'none' without an Authorization header, 'ok' or 'wrong' against payload_auth."""
        got = self.headers.get("Authorization")
        if not got:
            return "none"
        want = "Basic " + base64.b64encode((c.get("payload_auth") or "").encode()).decode()
        return "ok" if got == want else "wrong"

    def send_payload(self, facts):
        c = self.conf()
        with self.server.lock:
            self.server.payload_requests += 1
            nth = self.server.payload_requests
        auth = self.check_auth(c)
        if c.get("payload_auth") and auth != "ok":
            self.log_get(facts, auth, 401)
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="payloads"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.log_get(facts, auth, int(c.get("payload_status") or 0) or 200)
        if c.get("payload_status"):
            return self.reply(int(c["payload_status"]), "payload status\n", "text/plain")
        if nth <= int(c.get("payload_fail") or 0):
            return self.reply(503, "try later\n", "text/plain")
        extra = int(c.get("payload_extra") or 0)
        size = os.path.getsize(facts["path"]) + extra
        cut = c.get("truncate_after")
        stall = c.get("stall_after")
        rng = parse_range(self.headers.get("Range"), size)
        if rng is None or c.get("ignore_range"):
            start, status = 0, 200
        elif rng[1] < 0:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            start, status = rng[0], 206
        self.send_response(status)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        if stall is None and cut is None and not extra:
            # the rest straight from the file, as a real server would (no copies in Python)
            self.wfile.flush()
            with open(facts["path"], "rb") as f:
                self.connection.sendfile(f, offset=start)
            return
        with open(facts["path"], "rb") as f:
            body = (f.read() + b"X" * extra)[start:]
        if stall is not None and len(body) > stall:
            self.wfile.write(body[:stall])
            self.wfile.flush()
            self.server.stop.wait()
            self.close_connection = True
            return
        if cut is not None and len(body) > cut:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        c = self.conf()
        entry = {"path": self.path, "content_type": self.headers.get("Content-Type"),
                 "user_agent": self.headers.get("User-Agent")}
        try:
            req = ET.fromstring(raw)
            app = req.find("app")
            entry.update({
                "request": dict(req.attrib),
                "os": dict(req.find("os").attrib) if req.find("os") is not None else {},
                "app": dict(app.attrib) if app is not None else {},
                "ping": app is not None and app.find("ping") is not None,
                "updatecheck": app is not None and app.find("updatecheck") is not None,
                "events": [dict(e.attrib) for e in app.findall("event")] if app is not None else [],
            })
            entry["installsource"] = entry["request"].get("installsource")
        except ET.ParseError as e:
            entry["parse_error"] = str(e)
            app = None
        with self.server.lock:
            self.server.requests.append(entry)
            if self.server.args.log:
                with open(self.server.args.log, "a") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")
        if c.get("http_status"):
            return self.reply(int(c["http_status"]), "")
        if c.get("response_file"):
            return self.reply(200, open(c["response_file"], "rb").read())
        if app is None:
            return self.reply(400, "bad request\n", "text/plain")
        self.reply(200, self.build(c, app))

    def build(self, c, app):
        appid = app.get("appid") or c["appid"]
        status = c["status"]
        app_status = "ok"
        uc_status = "ok"
        if status == "noupdate":
            uc_status = "noupdate"
        elif status.startswith("uc:"):
            uc_status = status[3:]
        elif status != "ok":
            app_status = status
            uc_status = "error-internal"
        out = ['<response protocol="3.0" server="nebraska"><daystart elapsed_seconds="0"></daystart>']
        out.append('<app appid=%s status=%s>' % (quoteattr(appid), quoteattr(app_status)))
        if app.find("ping") is not None:
            out.append('<ping status="ok"></ping>')
        if app.find("updatecheck") is not None:
            poll = ' PollInterval="%d"' % c["poll_interval"] if c.get("poll_interval") else ""
            if uc_status != "ok" or not self.server.files:
                out.append('<updatecheck status=%s%s></updatecheck>'
                           % (quoteattr(uc_status if uc_status != "ok" else "noupdate"), poll))
            else:
                out.append(self.update_block(c, poll))
        for _ in app.findall("event"):
            out.append('<event status="ok"></event>')
        out.append("</app></response>")
        return "".join(out)

    def update_block(self, c, poll):
        host, port = self.server.server_address[:2]
        base = c.get("url_base") or "http://%s:%d/payloads/" % (host, port)
        main = self.server.files[0]
        pk = []
        for i, f in enumerate(self.server.files):
            h256 = ""
            enc = c.get("sha256_encoding", "hex")
            if enc == "hex" and i > 0:
                h256 = ' hash_sha256="%s"' % f["sha256_hex"]
            elif enc == "hex-all":
                h256 = ' hash_sha256="%s"' % f["sha256_hex"]
            elif enc == "base64":
                h256 = ' hash_sha256="%s"' % f["sha256_b64"]
            pk.append('<package name=%s hash="%s"%s size="%d" required="%s"></package>'
                      % (quoteattr(f["name"]), f["sha1_b64"], h256, f["size"],
                         "true" if i == 0 else "false"))
        extra = ""
        if c.get("max_failures"):
            extra = ' MaxFailureCountPerUrl="%d"' % int(c["max_failures"])
        return ('<updatecheck status="ok"%s><urls><url codebase=%s></url></urls>'
                '<manifest version=%s><packages>%s</packages><actions>'
                '<action event="postinstall" sha256="%s" needsadmin="false" IsDeltaPayload="%s" '
                'DisablePayloadBackoff="%s"%s></action></actions></manifest></updatecheck>'
                % (poll, quoteattr(base), quoteattr(c["version"]), "".join(pk),
                   main["sha256_b64"], "true" if c.get("delta") else "false",
                   "false" if c.get("payload_backoff") else "true", extra))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if self.args.verbose:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--payload", help="the OS payload file (first package)")
    ap.add_argument("--extension", action="append", default=[], help="extra package files")
    ap.add_argument("--version", default="9999.0.0")
    ap.add_argument("--appid", default=DEFAULT_APPID)
    ap.add_argument("--status", default="ok")
    ap.add_argument("--sha256-encoding", default="hex",
                    choices=["hex", "hex-all", "base64", "none"])
    ap.add_argument("--url-base")
    ap.add_argument("--http-status", type=int)
    ap.add_argument("--response-file")
    ap.add_argument("--delta", action="store_true")
    ap.add_argument("--poll-interval", type=int)
    ap.add_argument("--truncate-after", type=int)
    ap.add_argument("--config")
    ap.add_argument("--log")
    ap.add_argument("--get-log")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = a
    srv.lock = threading.Lock()
    srv.requests = []
    srv.payload_requests = 0
    srv.stop = threading.Event()
    srv.files = [file_facts(p) for p in ([a.payload] if a.payload else []) + a.extension]
    if a.cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
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
