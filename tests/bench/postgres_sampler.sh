#!/usr/bin/env bash
# Benchmark (not a test): what chokepoint's session sampler costs the server during a 10 s window.
# Reports the sampler's statements per second and their server time (from pg_stat_statements,
# chokepoint's own tagged statements), and the workload's throughput with and without chokepoint.
#   tests/bench/postgres_sampler.sh [CHOKEPOINT_BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/chokepoint}
WINDOW=${WINDOW:-10}
CLIENTS=${CLIENTS:-8}

work=$(mktemp -d /tmp/chokepoint-bench.XXXXXX)
trap '"$root/tests/tools/services.sh" stop "$work"; rm -rf "$work"' EXIT
SHOP_ORDERS=200000 "$root/tests/tools/services.sh" start "$work" postgres shop >/dev/null
# shellcheck disable=SC1091
. "$work/env"

tps() { grep -oE 'tps = [0-9.]+' "$1" | head -1 | cut -d' ' -f3; }
run_load() { pgbench -n -c "$CLIENTS" -j 2 -T "$WINDOW" -M prepared -f "$root/tests/workloads/healthy.sql" "$PG_APP_DSN" >"$1" 2>&1; }

run_load "$work/alone1.log"
psql -X -q "$PG_SUPER_DSN" -c "SELECT pg_stat_statements_reset()" >/dev/null
run_load "$work/with.log" &
load=$!
sleep 0.5
"$bin" diagnose --postgres "$PG_APP_DSN" --window "$WINDOW" --format json --output "$work/report.json" 2>/dev/null || true
wait "$load"
run_load "$work/alone2.log"

python3 - "$work/report.json" "$WINDOW" <<PY
import json, sys
d = json.load(open(sys.argv[1])); window = float(sys.argv[2])
m = {x["name"]: x["value"] for x in d["metrics"]}
calls, ms, samples = m["pg.chokepoint_statements"], m["pg.chokepoint_server_ms"], m["pg.activity_samples"]
db = m.get("pg.db_time_ms", 0)
print(f"sampler: {samples:.0f} pg_stat_activity samples, {calls:.0f} chokepoint statements in the window "
      f"= {calls / window:.1f} statements/s, {ms:.1f} ms of server time ({ms / window:.2f} ms/s, "
      f"{100 * ms / (ms + db) if db else 0:.2f} % of all statement time)")
PY
echo "workload tps: alone $(tps "$work/alone1.log") / $(tps "$work/alone2.log"), during the window $(tps "$work/with.log")"
