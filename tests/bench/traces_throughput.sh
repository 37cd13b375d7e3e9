#!/usr/bin/env bash
# Benchmark (not a test): trace reading end to end on one core — spans per second and peak RSS —
# on a generated OTLP JSON Lines file of SIZE_MB (default 512).
#   RUNS=5 tests/bench/traces_throughput.sh [CHOKEPOINT_BIN] [SIZE_MB]
# The machine's timings vary run to run: the best and the median of RUNS runs are reported.
# Targets: >= 1,000,000 spans/s, peak RSS <= 200 MB. In the same run, interleaved, a bare simdjson
# On-Demand pass over the same file (build/tests/bench_ondemand_pass: spans visited, ids and times
# read) is timed too, and the ratio of the best times printed (aim: <= 2x).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/chokepoint}
size=${2:-512}
dir=${BENCH_DIR:-/tmp/chokepoint-bench}
mkdir -p "$dir"
file="$dir/traces-${size}mb.jsonl"
[ -s "$file" ] || python3 "$root/tests/bench/gen_otlp_jsonl.py" "$file" "$size"

baseline=${BASELINE_BIN:-$(dirname "$bin")/tests/bench_ondemand_pass}
python3 - "$bin" "$file" "${RUNS:-5}" "$baseline" <<'PY'
import json, os, statistics, subprocess, sys, time
bin, path, runs, baseline = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = path + ".report.json"
# One core: the reader is single-threaded; taskset makes sure nothing else helps it.
cmd = ["taskset", "-c", "0", bin, "diagnose", "--traces", path, "--format", "json", "--output", out]
walls, rss, bare = [], 0, []
for _ in range(runs):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    walls.append(time.monotonic() - start)
    rss = max(rss, usage.ru_maxrss)
    if os.access(baseline, os.X_OK):
        start = time.monotonic()
        subprocess.run(["taskset", "-c", "0", baseline, path], stdout=subprocess.DEVNULL, check=True)
        bare.append(time.monotonic() - start)
report = json.load(open(out))
spans = next(m["value"] for m in report["metrics"] if m["name"] == "traces.spans")
size = os.path.getsize(path)
best, median = min(walls), statistics.median(walls)
print(f"file {size / 1048576:.0f} MiB, {spans:.0f} spans, exit {os.waitstatus_to_exitcode(status)}, {runs} runs")
print(f"wall best {best:.2f} s, median {median:.2f} s -> {spans / best / 1e6:.2f} M spans/s best, "
      f"{spans / median / 1e6:.2f} median ({size / median / 1048576:.0f} MiB/s); peak RSS {rss / 1024:.0f} MiB "
      f"(targets: >= 1.00 M spans/s, <= 200 MiB)")
if bare:
    print(f"bare simdjson On-Demand pass: best {min(bare):.2f} s, median {statistics.median(bare):.2f} s -> "
          f"chokepoint / bare = {best / min(bare):.2f}x best, {median / statistics.median(bare):.2f}x median "
          f"(aim: <= 2x)")
else:
    print(f"(no baseline: build the bench_ondemand_pass target, or set BASELINE_BIN)")
PY
