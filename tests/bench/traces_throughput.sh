#!/usr/bin/env bash
# Benchmark (not a test): trace reading end to end on one core — spans per second and peak RSS —
# on a generated OTLP JSON Lines file of SIZE_MB (default 512).
#   tests/bench/traces_throughput.sh [CHOKEPOINT_BIN] [SIZE_MB]
# Targets: >= 1,000,000 spans/s, peak RSS <= 200 MB.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/chokepoint}
size=${2:-512}
dir=${BENCH_DIR:-/tmp/chokepoint-bench}
mkdir -p "$dir"
file="$dir/traces-${size}mb.jsonl"
[ -s "$file" ] || python3 "$root/tests/bench/gen_otlp_jsonl.py" "$file" "$size"

python3 - "$bin" "$file" <<'PY'
import json, os, subprocess, sys, time
bin, path = sys.argv[1], sys.argv[2]
out = path + ".report.json"
# One core: the reader is single-threaded; taskset makes sure nothing else helps it.
cmd = ["taskset", "-c", "0", bin, "diagnose", "--traces", path, "--format", "json", "--output", out]
start = time.monotonic()
proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.monotonic() - start
report = json.load(open(out))
spans = next(m["value"] for m in report["metrics"] if m["name"] == "traces.spans")
size = os.path.getsize(path)
print(f"file {size / 1048576:.0f} MiB, {spans:.0f} spans, exit {os.waitstatus_to_exitcode(status)}")
print(f"wall {wall:.2f} s, cpu {usage.ru_utime + usage.ru_stime:.2f} s -> {spans / wall / 1e6:.2f} M spans/s "
      f"({size / wall / 1048576:.0f} MiB/s); peak RSS {usage.ru_maxrss / 1024:.0f} MiB "
      f"(targets: >= 1.00 M spans/s, <= 200 MiB)")
PY
