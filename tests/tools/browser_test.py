#!/usr/bin/env python3
"""CTest browser.html_reports: HTML reports rendered by chokepoint, opened in headless Chromium.

    browser_test.py CHOKEPOINT_BIN SOURCE_DIR ARTIFACT_DIR

Renders every sample report (diagnose --replay of sample-reports/*.evidence.json), a compare of
two of them, and two hostile inputs (a trace file and a saved report whose statement texts, span
names, hosts, service names, routes, labels and fleet instances are markup, quotes and very long
lines). Each page must load without a console error and without any network request, show the
verdict, draw every chart its report calls for, stay under 2 MiB, and show the hostile strings as
text; some sample page must draw a live window's time series and some a traced route's latency
histogram. Screenshots and PDFs stay in ARTIFACT_DIR. Exit 77 (skipped) when no Chromium is installed.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_check  # noqa: E402

MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_SERIES_CHARTS = 40
HOSTILE = "</title><script>alert(\"pwned\")</script><img src=x onerror='alert(1)'>\" onmouseover=\"x"
FORBIDDEN = ["script", "img", "iframe", "[onerror]", "[onmouseover]"]


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(argv)}: exit {p.returncode}\n{p.stderr}")
    return p


def expected_charts(report):
    """The charts a page must draw for this report, from the report alone."""
    charts = {"ranking": 1}
    breakdowns = report.get("breakdowns", [])
    if breakdowns:
        charts["route-time"] = len(breakdowns)
        charts["route-latency"] = 1
        with_histogram = sum(1 for b in breakdowns if b.get("latency_histogram"))
        if with_histogram:
            charts["route-histogram"] = with_histogram
    groups = {}
    for s in report.get("series", []):
        groups.setdefault((s["name"], s["unit"], s["labels"].get("target", "")), []).extend(
            v for _, v in s["points"])
    if groups:
        charts["series"] = min(len(groups), MAX_SERIES_CHARTS)
    # timings are also drawn as a distribution when they vary
    spread = sum(1 for (_, unit, _), values in list(groups.items())[:MAX_SERIES_CHARTS]
                 if unit == "ms" and values and max(values) > min(values))
    if spread:
        charts["series-histogram"] = spread
    if report["gate"]["baseline"]["file"] is not None:
        charts["ranking-before"] = 1
        charts["ranking-after"] = 1
    return charts


def verdict_texts(report):
    v = report["verdict"]
    return [v["category"], " ".join(v["headline"].split())[:80]]


def hostile_traces(path):
    """An N+1 behind a slow external call, every name a hostile string."""
    long_line = "x" * 6000
    spans = []
    for t in range(5):
        trace = f"{t + 1:032x}"
        root = f"{t + 1:08x}00000001"
        start = 1764100000000000000 + t * 1000000000
        spans.append({"traceId": trace, "spanId": root, "parentSpanId": "", "name": "GET " + HOSTILE, "kind": 2,
                      "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 400000000),
                      "attributes": [{"key": "http.route", "value": {"stringValue": "/orders/" + HOSTILE}},
                                     {"key": "http.request.method", "value": {"stringValue": "GET"}}]})
        for i in range(20):
            s0 = start + 1000000 + i * 5000000
            spans.append({"traceId": trace, "spanId": f"{t + 1:08x}{i + 16:08x}", "parentSpanId": root,
                          "name": "SELECT " + HOSTILE, "kind": 3, "startTimeUnixNano": str(s0),
                          "endTimeUnixNano": str(s0 + 4000000),
                          "attributes": [{"key": "db.system", "value": {"stringValue": "postgresql"}},
                                         {"key": "db.statement", "value": {"stringValue":
                                          f"SELECT \"{HOSTILE}\" FROM users WHERE id = {i} -- '{long_line}"}}]})
        s0 = start + 150000000
        spans.append({"traceId": trace, "spanId": f"{t + 1:08x}000000ff", "parentSpanId": root,
                      "name": "GET " + HOSTILE, "kind": 3, "startTimeUnixNano": str(s0),
                      "endTimeUnixNano": str(s0 + 240000000),
                      "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}},
                                     {"key": "url.full", "value": {"stringValue":
                                      "https://evil.example/<script>x</script>?q=\"" + long_line}},
                                     {"key": "server.address", "value": {"stringValue": HOSTILE}}]})
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
                                                            "value": {"stringValue": HOSTILE}}]},
                              "scopeSpans": [{"scope": {"name": HOSTILE}, "spans": spans}]}]}
    with open(path, "w") as f:
        json.dump(doc, f)


def hostile_report(sample_json, path):
    """A saved report with hostile strings wherever a measured system's text can land."""
    with open(sample_json) as f:
        r = json.load(f)
    for p in r["probes"]:
        p["message"] = HOSTILE
        p.setdefault("notes", []).append(HOSTILE + "y" * 5000)
    for f in r["findings"]:
        f["title"] += " " + HOSTILE
        f["detail"] += " " + HOSTILE + "z" * 8000
        f["component"] += HOSTILE
        f["evidence"][HOSTILE] = HOSTILE
        f["evidence"]["query"] = "SELECT '" + HOSTILE + "' " + "w" * 9000
        f["remediation"]["summary"] += HOSTILE
    r["verdict"]["headline"] += " " + HOSTILE
    r.setdefault("breakdowns", []).append({"service": HOSTILE, "route": HOSTILE, "requests": 3, "p50_ms": 1,
                                           "p95_ms": 2, "p99_ms": 3, "shares": {"database": 1.0}})
    r.setdefault("series", []).append({"name": "pg.sessions", "unit": HOSTILE, "labels": {"state": HOSTILE},
                                       "points": [[0, 1], [1, 2], [2, 1]]})
    finding = r["findings"][0]["id"] if r["findings"] else None
    r["fleet"] = {"source": "http://prometheus.example:9090/" + HOSTILE, "at": "2026-12-08T02:00:00Z",
                  "range_s": 60, "queries": 9, "not_examined": [HOSTILE],
                  "instances": [{"name": "pod " + HOSTILE, "kind": "container",
                                 "labels": {"pod": HOSTILE, HOSTILE: "x" * 5000},
                                 "category": "database" if finding else None,
                                 "severity": "high" if finding else None,
                                 "findings": [finding] if finding else [], "top": HOSTILE if finding else ""},
                                {"name": "node " + HOSTILE, "kind": "host", "labels": {}, "category": None,
                                 "severity": None, "findings": [], "top": ""}]}
    with open(path, "w") as f:
        json.dump(r, f)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    binary, source, artifacts = sys.argv[1:]
    chromium = browser_check.find_chromium()
    if not chromium:
        print("SKIP: no chromium on PATH (tests/tools/install-deps.sh installs Debian's chromium package)")
        return 77
    os.makedirs(artifacts, exist_ok=True)
    samples = os.path.join(source, "sample-reports")

    # (name, argv producing the page; the same with --format json gives the expectations)
    cases = []
    for evidence in sorted(glob.glob(os.path.join(samples, "*.evidence.json"))):
        name = os.path.basename(evidence)[: -len(".evidence.json")]
        cases.append((name, [binary, "diagnose", "--replay", evidence], False))
    before, after = os.path.join(samples, "missing_index.json"), os.path.join(samples, "healthy.json")
    if os.path.exists(before) and os.path.exists(after):
        cases.append(("compare_missing_index_healthy", [binary, "compare", before, after], False))
    traces = os.path.join(artifacts, "hostile.traces.json")
    hostile_traces(traces)
    cases.append(("hostile_traces", [binary, "diagnose", "--traces", traces], True))
    report = os.path.join(artifacts, "hostile.report.json")
    hostile_report(os.path.join(samples, "pool_saturation.json"), report)
    cases.append(("hostile_report", [binary, "compare", report, report], True))

    failed = 0
    drawn = {}  # chart -> the sample pages that drew it
    with tempfile.TemporaryDirectory(prefix="chokepoint-chromium.") as profile:
        browser = browser_check.Browser(chromium, profile)
        try:
            for name, argv, hostile in cases:
                page = os.path.join(artifacts, name + ".html")
                run(argv + ["--format", "html", "--output", page])
                report_json = json.loads(run(argv + ["--format", "json"]).stdout)
                texts = verdict_texts(report_json)
                if hostile:  # shown as text, literally
                    texts.append("<script>alert(\"pwned\")</script>")
                failures, facts = browser_check.check_page(
                    browser, page, os.path.join(artifacts, name + ".png"), texts, expected_charts(report_json),
                    FORBIDDEN if hostile else [])
                size = os.path.getsize(page)
                if size > MAX_PAGE_BYTES:
                    failures.append(f"page is {size} bytes, over {MAX_PAGE_BYTES}")
                print(("ok   " if not failures else "FAIL ") + browser_check.describe(page, facts,
                                                                                     name + ".png"))
                for f in failures:
                    print("       " + f)
                failed += bool(failures)
                for chart, seen in facts["charts"].items():
                    if seen["drawn"] and not hostile:
                        drawn.setdefault(chart, []).append(name)
        finally:
            browser.close()
    # The samples show what the page is for: a live window's time series, a traced route's histogram.
    for chart, what in (("series", "a live-window sample's time series"),
                        ("route-histogram", "a traces sample's latency histogram")):
        if drawn.get(chart):
            print(f"ok   {what}: {', '.join(drawn[chart])}")
        else:
            print(f"FAIL no sample page draws {what} (chart {chart})")
            failed += 1
    print(f"browser_test: {failed} failure(s) over {len(cases)} pages; artifacts in {artifacts}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
