#!/usr/bin/env python3
"""Generates a large, realistic OTLP JSON Lines file (the collector's file exporter format) for the
trace-reader benchmark: several services and routes, requests of 5-60 spans (server, internal,
database with literal and $1 statements, Redis, HTTP calls to internal and third-party hosts),
batches of requests per line, and some spans of a trace arriving on a later line.

  gen_otlp_jsonl.py OUT.jsonl [SIZE_MB]      (default 512)

request(now) is also imported by otlp_bodies.py (the OTLP receiver benchmark's exports).
"""
import json
import random
import sys

rng = random.Random(7)
T0 = 1_764_100_000_000_000_000

SERVICES = {
    "shop-api": ["/orders/{id}", "/orders", "/cart", "/checkout", "/products/{id}", "/search"],
    "catalog": ["/items/{id}", "/categories/{id}/items", "/prices"],
    "accounts": ["/users/{id}", "/sessions"],
}
STATEMENTS = [
    "SELECT id, customer_id, status, total_cents FROM orders WHERE id = {}",
    "SELECT id, name, email FROM users WHERE id = {}",
    "SELECT * FROM order_items WHERE order_id = {} ORDER BY id",
    "UPDATE carts SET updated_at = now() WHERE id = {}",
    "SELECT p.id, p.name, p.price_cents FROM products p JOIN categories c ON c.id = p.category_id WHERE c.slug = '{}' LIMIT 50",
    "INSERT INTO events (kind, payload) VALUES ('view', '{}')",
]
HOSTS = ["http://inventory.internal:8080/stock/{}", "https://api.payments-provider.com/v1/charges/{}",
         "http://recommendations.internal/users/{}/recs", "https://geo.example-cdn.net/lookup?ip=10.0.{}.1"]


# Server spans record the client's user agent (OpenTelemetry HTTP instrumentation): the reader
# compares it with chokepoint's own on every entry span.
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0",
          "okhttp/4.12.0", "python-requests/2.32.3", "Go-http-client/1.1"]


def hexid(bits):
    return "%0*x" % (bits // 4, rng.getrandbits(bits))


def attr(k, v):
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    return {"key": k, "value": {"stringValue": v}}


def span(trace, sid, parent, name, kind, start, dur, attrs):
    return {"traceId": trace, "spanId": sid, "parentSpanId": parent, "name": name, "kind": kind,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + dur),
            "attributes": attrs, "status": {}}


def request(now):
    service = rng.choice(list(SERVICES))
    route = rng.choice(SERVICES[service])
    trace = hexid(128)
    root = hexid(64)
    dur = rng.randint(5, 400) * 1_000_000
    spans = [span(trace, root, "", "GET " + route, 2, now, dur,
                  [attr("http.route", route), attr("http.request.method", "GET"), attr("http.response.status_code", 200),
                   attr("url.path", route.replace("{id}", str(rng.randint(1, 99999)))),
                   attr("user_agent.original", rng.choice(AGENTS))])]
    handler = hexid(64)
    spans.append(span(trace, handler, root, route.strip("/").split("/")[0].title() + "Controller.handle", 1,
                      now + 200_000, dur - 400_000, [attr("code.function", "handle")]))
    t = now + 300_000
    n = rng.randint(3, 55)
    for _ in range(n):
        r = rng.random()
        d = rng.randint(100, 5000) * 1000
        if r < 0.6:
            stmt = rng.choice(STATEMENTS)
            text = stmt.format(rng.randint(1, 10**6)) if rng.random() < 0.5 else stmt.replace("{}", "$1").replace("'$1'", "$1")
            key = "db.statement" if rng.random() < 0.5 else "db.query.text"
            spans.append(span(trace, hexid(64), handler, "SELECT", 3, t, d, [attr("db.system", "postgresql"), attr(key, text),
                                                                              attr("server.address", "db.internal")]))
        elif r < 0.8:
            spans.append(span(trace, hexid(64), handler, "GET", 3, t, d // 10,
                              [attr("db.system", "redis"), attr("db.statement", "GET session:%d" % rng.randint(1, 10**6))]))
        else:
            url = rng.choice(HOSTS).format(rng.randint(1, 999))
            spans.append(span(trace, hexid(64), handler, "HTTP GET", 3, t, d * 3,
                              [attr("http.request.method", "GET"), attr("url.full", url), attr("http.response.status_code", 200)]))
        t += d + 50_000
    return service, spans


def line(batch):
    by_service = {}
    for service, spans in batch:
        by_service.setdefault(service, []).extend(spans)
    doc = {"resourceSpans": [{"resource": {"attributes": [attr("service.name", s), attr("host.name", "node-1")]},
                              "scopeSpans": [{"scope": {"name": "io.opentelemetry.auto", "version": "2.1.0"}, "spans": sp}]}
                             for s, sp in by_service.items()]}
    return json.dumps(doc, separators=(",", ":"))


def main(out_path, target):
    written = 0
    spans_written = 0
    now = T0
    late = []  # spans held back to a later line
    with open(out_path, "w") as f:
        while written < target:
            batch = []
            for _ in range(rng.randint(5, 30)):
                service, spans = request(now)
                now += rng.randint(1, 20) * 1_000_000
                if rng.random() < 0.1 and len(spans) > 3:  # the tail of this trace arrives later
                    late.append((service, spans[-2:]))
                    spans = spans[:-2]
                batch.append((service, spans))
            if late and rng.random() < 0.5:
                batch.extend(late)
                late = []
            text = line(batch) + "\n"
            f.write(text)
            written += len(text)
            spans_written += sum(len(s) for _, s in batch)
        if late:
            text = line(late) + "\n"
            f.write(text)
            spans_written += sum(len(s) for _, s in late)
    print(f"{out_path}: {written / 1048576:.0f} MiB, {spans_written} spans", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2] if len(sys.argv) > 2 else 512) * 1024 * 1024)
