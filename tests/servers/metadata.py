#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/servers/metadata.py - loopback stand-in for a cloud provider's metadata service, for the
# platform tests of `flatctl provision` (docs/provision-platforms.md). It speaks the protocol of
# one provider, chosen with --provider, as that provider documents it:
#
#   aws           PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds 1..21600,
#                 answers a token), GET /2019-10-01/user-data (a token, when sent, must be one
#                 handed out; 401 otherwise); no user data: 404
#   azure         GET /metadata/instance/compute/userData?api-version=...&format=text with
#                 "Metadata: true" (else 400), no X-Forwarded-For; the body is the user data in
#                 base64; no user data: 200 with an empty body
#   digitalocean  GET /metadata/v1/user-data; no user data: 200, empty
#   equinixmetal  GET /userdata; Go's default Accept is refused with 406, "Accept: */*" is
#                 taken; no user data: 200, empty
#   gcp           GET /computeMetadata/v1/instance/attributes/user-data with
#                 "Metadata-Flavor: Google" (else 403), no X-Forwarded-For; answers carry
#                 "Metadata-Flavor: Google"; no user data: 404
#   hetzner       GET /hetzner/v1/userdata; no user data: 200, empty
#   openstack     GET /openstack/latest/user_data; no user data: 404
#
# The behaviour is read from files in --state DIR at every request, so a test changes it
# between runs without restarting the server:
#   user-data     the user data (absent: the provider's "no user data" answer above)
#   fail          a number N: the next N requests are answered 503 (N is counted down)
#   fail-status   the status of those answers instead of 503
#   status        a number: the user-data path answers this status instead
#   imdsv1        (aws) present: the token endpoint answers 404, as where IMDSv2 is off
#   raw-body      sent as it is with a 200, in place of the (encoded) user data
#   location      sent as Location with the forced status (GET /redirected answers the user
#                 data as it is, so a client that follows the redirect gets it)
# Every request is appended to DIR/requests.log as one JSON line {method, path, headers}.
# Binds 127.0.0.1 on a free port and writes the port to --port-file.
import argparse
import base64
import json
import os
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

PATHS = {
    "aws": "/2019-10-01/user-data",
    "azure": "/metadata/instance/compute/userData",
    "digitalocean": "/metadata/v1/user-data",
    "equinixmetal": "/userdata",
    "gcp": "/computeMetadata/v1/instance/attributes/user-data",
    "hetzner": "/hetzner/v1/userdata",
    "openstack": "/openstack/latest/user_data",
}
# what each service answers when the instance has no user data
EMPTY_IS_404 = {"aws", "gcp", "openstack"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flatctl-test-metadata"

    def log_message(self, fmt, *args):
        pass

    def state(self, name):
        p = os.path.join(self.server.state, name)
        try:
            with open(p, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def record(self):
        entry = {"method": self.command, "path": self.path,
                 "headers": {k: v for k, v in self.headers.items()}}
        with self.server.lock:
            with open(os.path.join(self.server.state, "requests.log"), "a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    def take_failure(self):
        with self.server.lock:
            p = os.path.join(self.server.state, "fail")
            try:
                with open(p) as f:
                    n = int(f.read().strip() or "0")
            except (FileNotFoundError, ValueError):
                return False
            if n <= 0:
                return False
            with open(p, "w") as f:
                f.write("%d\n" % (n - 1))
            return True

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.record()
        if self.take_failure():
            st = int((self.state("fail-status") or b"503").strip())
            return self.reply(st, b"failing on purpose\n")
        prov = self.server.provider
        u = urlsplit(self.path)
        if prov == "aws" and u.path == "/latest/api/token":
            return self.aws_token()
        if u.path == "/redirected":
            return self.reply(200, self.state("user-data") or b"")
        if u.path != PATHS[prov]:
            return self.reply(404, b"not found\n")
        check = getattr(self, "check_" + prov, None)
        if check:
            bad = check(u)
            if bad:
                return self.reply(*bad)
        if self.command != "GET":
            return self.reply(405, b"method not allowed\n")
        forced = self.state("status")
        if forced:
            loc = self.state("location")
            hdrs = [("Location", loc.decode().strip())] if loc else []
            return self.reply(int(forced), b"forced status\n", hdrs)
        extra_raw = self.state("raw-body")
        if extra_raw is not None:
            return self.reply(200, extra_raw)
        data = self.state("user-data")
        extra = [("Metadata-Flavor", "Google")] if prov == "gcp" else []
        if data is None:
            if prov in EMPTY_IS_404:
                return self.reply(404, b"not found\n", extra)
            return self.reply(200, b"", extra)
        if prov == "azure":
            data = base64.b64encode(data)
        return self.reply(200, data, extra + [("Content-Type", "application/octet-stream")])

    # --- per-provider request rules ---
    def aws_token(self):
        if self.command != "PUT":
            return self.reply(405, b"method not allowed\n")
        if self.state("imdsv1") is not None:
            return self.reply(404, b"not found\n")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, b"missing or bad token ttl\n")
        tok = secrets.token_urlsafe(24)
        with self.server.lock:
            self.server.tokens.add(tok)
        return self.reply(200, tok.encode(), [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])

    def check_aws(self, u):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        if tok is not None and tok not in self.server.tokens:
            return (401, b"unauthorized\n")
        if tok is None and self.state("imdsv1") is None:
            return (401, b"IMDSv2 is required here\n")
        return None

    def check_gcp(self, u):
        if self.headers.get("Metadata-Flavor") != "Google":
            return (403, b"missing Metadata-Flavor: Google\n")
        if self.headers.get("X-Forwarded-For"):
            return (403, b"forwarded requests are refused\n")
        return None

    def check_azure(self, u):
        if self.headers.get("Metadata") != "true":
            return (400, b'{"error": "Bad request. Required metadata header not specified"}')
        if self.headers.get("X-Forwarded-For"):
            return (400, b'{"error": "forwarded requests are refused"}')
        q = parse_qs(u.query)
        if not q.get("api-version"):
            return (400, b'{"error": "Bad request. api-version was not specified"}')
        if q.get("format") != ["text"]:
            return (400, b'{"error": "Bad request. format must be text"}')
        return None

    def check_equinixmetal(self, u):
        if self.headers.get("Accept") != "*/*":
            return (406, b"not acceptable\n")
        return None

    do_GET = handle_any
    do_PUT = handle_any
    do_POST = handle_any
    do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", required=True, choices=sorted(PATHS))
    ap.add_argument("--state", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.provider = a.provider
    srv.state = a.state
    srv.lock = threading.Lock()
    srv.tokens = set()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
