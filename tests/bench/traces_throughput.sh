#!/usr/bin/env bash
# Benchmark (not a test): trace reading end to end — spans per second and peak RSS — on a generated
# OTLP JSON Lines file of SIZE_MB (default 512), on one core (taskset -c 0, --threads 1) and on every
# core chokepoint may use (--threads default), interleaved with a bare simdjson On-Demand pass over
# the same file on one core (build/tests/bench_ondemand_pass: spans visited, ids and times read).
#   RUNS=5 tests/bench/traces_throughput.sh [CHOKEPOINT_BIN] [SIZE_MB]
# The machine's timings vary run to run: the best and the median of RUNS runs are reported, and the
# ratios are of times measured in this run. Targets (#22, #24): >= 1,000,000 spans/s on one core;
# one core <= 2.5x the bare pass (aim 2x); every core <= 1.3x the one-core bare pass (aim 1x); peak
# RSS <= 200 MB.
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

def timed(cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"{cmd[0]} exited {os.waitstatus_to_exitcode(status)}")
    return time.monotonic() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime

one = ["taskset", "-c", "0", bin, "diagnose", "--threads", "1", "--traces", path, "--format", "json", "--output", out]
every = [bin, "diagnose", "--traces", path, "--format", "json", "--output", out + ".all"]
walls = {"one": [], "every": [], "bare": []}
rss = {"one": 0, "every": 0}
cpu = {"one": [], "every": []}
for _ in range(runs):
    for name, cmd in (("one", one), ("every", every)):
        wall, peak, used = timed(cmd)
        walls[name].append(wall)
        rss[name] = max(rss[name], peak)
        cpu[name].append(used)
    if os.access(baseline, os.X_OK):
        walls["bare"].append(timed(["taskset", "-c", "0", baseline, path])[0])
report = json.load(open(out))
same = json.load(open(out + ".all"))["findings"] == report["findings"]
spans = next(m["value"] for m in report["metrics"] if m["name"] == "traces.spans")
size = os.path.getsize(path)
cores = len(os.sched_getaffinity(0))
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {cores} cores, {model}")
print(f"file {size / 1048576:.0f} MiB, {spans:.0f} spans, {runs} runs; same findings at 1 thread and at every core: {same}")
for name, label in (("one", "one core (--threads 1)"), ("every", f"every core ({cores})")):
    best, median = min(walls[name]), statistics.median(walls[name])
    print(f"{label}: wall best {best:.2f} s, median {median:.2f} s -> {spans / best / 1e6:.2f} M spans/s best "
          f"({size / best / 1048576:.0f} MiB/s); CPU {min(cpu[name]):.2f} s; peak RSS {rss[name] / 1024:.0f} MiB")
if walls["bare"]:
    bare = min(walls["bare"])
    print(f"bare simdjson On-Demand pass, one core: best {bare:.2f} s, median {statistics.median(walls['bare']):.2f} s")
    print(f"one core / bare = {min(walls['one']) / bare:.2f}x (target <= 2.5x, aim 2x); "
          f"every core / bare = {min(walls['every']) / bare:.2f}x (target <= 1.3x, aim 1x); "
          f"speed-up one -> every core {min(walls['one']) / min(walls['every']):.2f}x")
else:
    print("(no baseline: build the bench_ondemand_pass target, or set BASELINE_BIN)")
PY
