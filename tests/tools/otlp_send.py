#!/usr/bin/env python3
"""Sends OTLP/JSON trace exports to an OTLP/HTTP endpoint, as an SDK exporter would.

    otlp_send.py ENDPOINT FILE [--protocol http/protobuf|http/json] [--gzip] [--batch N]
    otlp_send.py --to-protobuf FILE OUT [N]  (writes the first N spans as one protobuf export: fuzz seeds)

FILE is OTLP/JSON (one ExportTraceServiceRequest) or OTLP JSON Lines (one per line). Each request
is re-batched into exports of at most N spans (default 512, the SDK's batch size) and POSTed to
ENDPOINT/v1/traces over one keep-alive connection; with http/protobuf it is first encoded in the
protobuf wire format (opentelemetry/proto, standard library only). Prints one line per response
status ("200 12") and exits 1 if any export was not accepted.
"""
import base64
import gzip
import http.client
import json
import re
import struct
import sys
import time
import urllib.parse

KINDS = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2,
         "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}
CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_len(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_fixed64(num, v):
    return varint(num << 3 | 1) + struct.pack("<Q", v)


def id_bytes(s):
    if not s:
        return b""
    if re.fullmatch(r"[0-9a-fA-F]+", s) and len(s) in (16, 32):
        return bytes.fromhex(s)
    return base64.b64decode(s)


def any_value(v):
    if "stringValue" in v:
        return field_len(1, v["stringValue"].encode())
    if "boolValue" in v:
        return field_varint(2, 1 if v["boolValue"] else 0)
    if "intValue" in v:
        return field_varint(3, int(v["intValue"]))
    if "doubleValue" in v:
        return varint(4 << 3 | 1) + struct.pack("<d", float(v["doubleValue"]))
    if "arrayValue" in v:
        return field_len(5, b"".join(field_len(1, any_value(x)) for x in v["arrayValue"].get("values", [])))
    if "kvlistValue" in v:
        return field_len(6, b"".join(field_len(1, key_value(x)) for x in v["kvlistValue"].get("values", [])))
    if "bytesValue" in v:
        return field_len(7, base64.b64decode(v["bytesValue"]))
    return b""


def key_value(kv):
    return field_len(1, kv["key"].encode()) + field_len(2, any_value(kv.get("value", {})))


def span(s):
    out = field_len(1, id_bytes(s["traceId"])) + field_len(2, id_bytes(s["spanId"]))
    if s.get("parentSpanId"):
        out += field_len(4, id_bytes(s["parentSpanId"]))
    out += field_len(5, s.get("name", "").encode())
    kind = s.get("kind", 0)
    out += field_varint(6, KINDS.get(kind, 0) if isinstance(kind, str) else int(kind))
    out += field_fixed64(7, int(s.get("startTimeUnixNano", 0)))
    out += field_fixed64(8, int(s.get("endTimeUnixNano", 0)))
    for a in s.get("attributes", []):
        out += field_len(9, key_value(a))
    st = s.get("status")
    if st:
        code = st.get("code", 0)
        body = b""
        if st.get("message"):
            body += field_len(2, st["message"].encode())
        body += field_varint(3, CODES.get(code, 0) if isinstance(code, str) else int(code))
        out += field_len(15, body)
    return out


def to_protobuf(request):
    out = b""
    for rs in request.get("resourceSpans", []):
        body = field_len(1, b"".join(field_len(1, key_value(a))
                                     for a in rs.get("resource", {}).get("attributes", [])))
        for ss in rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])):
            scope = ss.get("scope", ss.get("instrumentationLibrary", {}))
            sb = field_len(1, field_len(1, scope.get("name", "").encode()))
            for s in ss.get("spans", []):
                sb += field_len(2, span(s))
            body += field_len(2, sb)
        out += field_len(1, body)
    return out


def requests_of(path):
    with open(path) as f:
        text = f.read()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def batches(request, size):
    """Splits a request into requests of at most `size` spans, keeping resource and scope."""
    out, current, count = [], None, 0
    for rs in request.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])):
            for s in ss.get("spans", []):
                if current is None or count >= size:
                    current, count = {"resourceSpans": []}, 0
                    out.append(current)
                groups = current["resourceSpans"]
                if not groups or groups[-1]["_rs"] is not rs:
                    groups.append({"_rs": rs, "resource": rs.get("resource", {}), "scopeSpans": []})
                scopes = groups[-1]["scopeSpans"]
                if not scopes or scopes[-1]["_ss"] is not ss:
                    scopes.append({"_ss": ss, "scope": ss.get("scope", {}), "spans": []})
                scopes[-1]["spans"].append(s)
                count += 1
    for r in out:
        for g in r["resourceSpans"]:
            del g["_rs"]
            for sc in g["scopeSpans"]:
                del sc["_ss"]
    return out


def main(argv):
    if argv[:1] == ["--to-protobuf"]:
        first = requests_of(argv[1])[0]
        if len(argv) > 3:
            first = batches(first, int(argv[3]))[0]
        with open(argv[2], "wb") as f:
            f.write(to_protobuf(first))
        return 0
    endpoint, path = argv[0], argv[1]
    protocol = "http/protobuf"
    use_gzip = "--gzip" in argv
    batch = 512
    if "--protocol" in argv:
        protocol = argv[argv.index("--protocol") + 1]
    if "--batch" in argv:
        batch = int(argv[argv.index("--batch") + 1])
    url = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for _ in range(100):  # the receiver may still be starting: wait up to 10 s for it
        try:
            conn.connect()
            break
        except OSError:
            time.sleep(0.1)
    failed = 0
    for request in requests_of(path):
        for part in batches(request, batch):
            if protocol == "http/protobuf":
                body, ctype = to_protobuf(part), "application/x-protobuf"
            else:
                body, ctype = json.dumps(part).encode(), "application/json"
            headers = {"Content-Type": ctype}
            if use_gzip:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            conn.request("POST", "/v1/traces", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            print(resp.status, sum(len(s.get("spans", [])) for g in part["resourceSpans"] for s in g["scopeSpans"]))
            failed += resp.status != 200
    conn.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
