#!/usr/bin/env python3
"""Pre-encodes the OTLP receiver benchmark's exports once, so the load generator only sends bytes.

    otlp_bodies.py OUT_PREFIX [SPANS]      (default 1,000,000 spans)

Writes OUT_PREFIX.plain and OUT_PREFIX.gzip: the same ExportTraceServiceRequests (protobuf), as an
OpenTelemetry SDK's batch span processor sends them: one service's spans per export (its resource:
service.name, host.name, process.pid, telemetry.sdk.*), at most 512 spans each (the SDK's default
max export batch), a trace's spans split across two exports where a batch ends. The requests are
gen_otlp_jsonl.py's (server span, handler, PostgreSQL with db.statement, Redis, HTTP client spans);
the encoder is tests/tools/otlp_send.py's. Gzip at level 6 (zlib's default, as the Go and Java
exporters). Each record: u32 little-endian body length, u32 span count, the body.
"""
import gzip
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "tools"))
import gen_otlp_jsonl as gen  # noqa: E402
import otlp_send  # noqa: E402

BATCH = 512


def resource(service, pid):
    return {"attributes": [gen.attr("service.name", service), gen.attr("host.name", "node-1"),
                           {"key": "process.pid", "value": {"intValue": str(pid)}},
                           gen.attr("telemetry.sdk.language", "java"), gen.attr("telemetry.sdk.name", "opentelemetry"),
                           gen.attr("telemetry.sdk.version", "1.38.0"), gen.attr("deployment.environment", "ci")]}


def export(service, spans):
    pid = 1000 + sorted(gen.SERVICES).index(service)
    request = {"resourceSpans": [{"resource": resource(service, pid),
                                  "scopeSpans": [{"scope": {"name": "io.opentelemetry.auto"}, "spans": spans}]}]}
    return otlp_send.to_protobuf(request)


def main(prefix, total):
    pending = {s: [] for s in gen.SERVICES}
    now, written, exports = gen.T0, 0, 0
    with open(prefix + ".plain.tmp", "wb") as plain, open(prefix + ".gzip.tmp", "wb") as packed:
        def flush(service, spans):
            body = export(service, spans)
            plain.write(struct.pack("<II", len(body), len(spans)) + body)
            zipped = gzip.compress(body, compresslevel=6, mtime=0)
            packed.write(struct.pack("<II", len(zipped), len(spans)) + zipped)

        while written < total:
            service, spans = gen.request(now)
            now += gen.rng.randint(1, 20) * 1_000_000
            buffer = pending[service]
            buffer.extend(spans)
            while len(buffer) >= BATCH:
                flush(service, buffer[:BATCH])
                del buffer[:BATCH]
                written += BATCH
                exports += 1
        for service, buffer in pending.items():
            if buffer:
                flush(service, buffer)
                written += len(buffer)
                exports += 1
    os.replace(prefix + ".plain.tmp", prefix + ".plain")
    os.replace(prefix + ".gzip.tmp", prefix + ".gzip")
    print(f"{prefix}.plain/.gzip: {written} spans in {exports} exports, "
          f"{os.path.getsize(prefix + '.plain') / 1048576:.0f} MiB plain, "
          f"{os.path.getsize(prefix + '.gzip') / 1048576:.0f} MiB gzip", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
