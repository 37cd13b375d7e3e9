#!/usr/bin/env python3
"""HTTP dependencies for chokepoint's HTTP probe tests and demo (loopback only).

  /fast            answers at once
  /slow?ms=400     answers after `ms` milliseconds
  /hang            never answers in time (sleeps 60 s)
  /status/503      answers that status
  /flaky?every=3   answers 503 to every third request, 200 otherwise
Keep-alive (HTTP/1.1) is supported, so clients can reuse connections. The same handler also
serves TLS on --tls-port with the given certificate.
"""
import argparse
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

counter_lock = threading.Lock()
counter = {"flaky": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"ok\n"):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/fast":
            self.reply(200)
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", ["400"])[0]) / 1000)
            self.reply(200)
        elif url.path == "/hang":
            time.sleep(60)
            self.reply(200)
        elif url.path.startswith("/status/"):
            self.reply(int(url.path.rsplit("/", 1)[1]))
        elif url.path == "/flaky":
            every = int(query.get("every", ["3"])[0])
            with counter_lock:
                counter["flaky"] += 1
                n = counter["flaky"]
            self.reply(503 if n % every == 0 else 200)
        else:
            self.reply(404, b"not found\n")


def serve(server):
    server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--slow-tls-port", type=int, help="TLS whose handshake waits --handshake-delay-ms")
    ap.add_argument("--handshake-delay-ms", type=float, default=60)
    args = ap.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    servers = [ThreadingHTTPServer(("127.0.0.1", args.port), Handler)]
    if args.tls_port:
        tls = ThreadingHTTPServer(("127.0.0.1", args.tls_port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        servers.append(tls)
    if args.slow_tls_port:
        # A far-away TLS endpoint: the TCP connection is there at once, the handshake (done in
        # accept) answers the ClientHello only after the delay; calls over the kept-alive
        # connection are fast.
        delay = args.handshake_delay_ms / 1000

        class SlowHandshake(ThreadingHTTPServer):
            def get_request(self):
                time.sleep(delay)
                return super().get_request()

        slow = SlowHandshake(("127.0.0.1", args.slow_tls_port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        slow.socket = ctx.wrap_socket(slow.socket, server_side=True)
        servers.append(slow)
    threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
