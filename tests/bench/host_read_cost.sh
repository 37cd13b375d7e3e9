#!/usr/bin/env bash
# Benchmark (not a test): CPU time of one full host + cgroup reading (/proc/stat, pressure, snmp,
# netstat, vmstat, meminfo, the cgroup's cpu/memory files). Target: under 5 ms per sample.
#   tests/bench/host_read_cost.sh [CHOKEPOINT_BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/chokepoint}
for run in 1 2 3; do
  "$bin" diagnose --host --window 1 --format json 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); m={x['name']:x['value'] for x in d['metrics']}; print(f\"run $run: {m['host.read_cpu_ms_per_sample']:.3f} ms CPU per full reading (target < 5 ms)\")"
done
