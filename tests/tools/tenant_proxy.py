#!/usr/bin/env python3
"""A Mimir-style front for a Prometheus, for the --prometheus probe's tests (python3 stdlib only).

    tenant_proxy.py --port PORT --upstream http://127.0.0.1:9090[/prefix] [--tenant tenant-a]

Listens on 127.0.0.1:PORT and serves only under /prometheus (clients use the base URL
http://127.0.0.1:PORT/prometheus, as with Grafana Mimir):
  - outside /prometheus:            404, body "404 page not found"
  - no X-Scope-OrgID header:        401, body "no org id"
  - another tenant than --tenant:   401, body "unknown tenant: NAME"
  - otherwise GET and POST (form bodies) go to UPSTREAM + the path without /prometheus, with the
    query string, and the upstream's status, headers and body come back as they are
    (upstream unreachable: 502).
One line per request on stderr: method, path, tenant, status.
"""
import argparse
import http.client
import http.server
import sys
import urllib.parse

PREFIX = "/prometheus"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length", "host"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # urllib.parse.SplitResult
    tenant = "tenant-a"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-type" for k, _ in headers):
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        org = self.headers.get("X-Scope-OrgID", "-")
        sys.stderr.write(f"{self.command} {self.path} tenant={org} {status}\n")
        sys.stderr.flush()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        body = self.read_body() if self.command == "POST" else b""
        path, _, query = self.path.partition("?")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.reply(404, "404 page not found\n")
        org = self.headers.get("X-Scope-OrgID")
        if not org:
            return self.reply(401, "no org id\n")
        if org != self.tenant:
            return self.reply(401, f"unknown tenant: {org}\n")
        up = self.upstream
        target = up.path.rstrip("/") + (path[len(PREFIX):] or "/") + ("?" + query if query else "")
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() != "x-scope-orgid"}
        if body or self.command == "POST":
            headers["Content-Length"] = str(len(body))
        try:
            conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=120)
            conn.request(self.command, target, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP | {"date"}]
            conn.close()
        except OSError as e:
            return self.reply(502, f"upstream {up.geturl()} unreachable: {e}\n")
        self.reply(resp.status, data, out)

    do_GET = do_POST = do_HEAD = handle_any

    def do_PUT(self):
        self.reply(405, "method not allowed\n")

    do_DELETE = do_PATCH = do_PUT


def main():
    ap = argparse.ArgumentParser(description="Mimir-style tenant proxy in front of a Prometheus")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    ap.add_argument("--tenant", default="tenant-a")
    a = ap.parse_args()
    Handler.upstream = urllib.parse.urlsplit(a.upstream)
    Handler.tenant = a.tenant
    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    sys.stderr.write(f"tenant_proxy: 127.0.0.1:{a.port}{PREFIX} -> {a.upstream} (tenant {a.tenant})\n")
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
