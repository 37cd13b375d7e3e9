#!/usr/bin/env bash
# The demo: throwaway servers on loopback, a workload with a chosen bottleneck, chokepoint's
# diagnosis of it. Regenerates sample-reports/<scenario>.{txt,json,evidence.json}.
#
#   sample-reports/demo.sh [CHOKEPOINT_BIN] [SCENARIO...]
#   scenarios: missing_index n_plus_one healthy locks no_pooling pool_saturation held_transactions
#              healthy_pooled throttled_worker slow_dependency cold_cache traces_n_plus_one
#              traces_slow_dependency traces_code_hotspot (default: all)
#
# Everything it starts lives under one temporary directory and is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${1:-$root/build/chokepoint}
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(missing_index n_plus_one healthy locks no_pooling pool_saturation
                                         held_transactions healthy_pooled throttled_worker slow_dependency
                                         cold_cache traces_n_plus_one traces_slow_dependency traces_code_hotspot)
[ -x "$bin" ] || { echo "demo: $bin is not built (run tests/tools/bootstrap.sh demo)" >&2; exit 2; }
WINDOW=${WINDOW:-8}

work=$(mktemp -d /tmp/chokepoint-demo.XXXXXX)
cleanup() { "$root/tests/tools/services.sh" stop "$work" || true; rm -rf "$work"; }
trap cleanup EXIT

echo "demo: starting PostgreSQL 15, PgBouncer, Redis and HTTP dependencies on loopback (1M orders)…" >&2
"$root/tests/tools/services.sh" start "$work" postgres shop pgbouncer redis http
# shellcheck disable=SC1091
. "$work/env"

reset_stats() {
  psql -X -q -v ON_ERROR_STOP=1 "$PG_SUPER_DSN" -c "SELECT pg_stat_statements_reset()" -c "SELECT pg_stat_reset()" >/dev/null
}

# diagnose NAME [chokepoint args…]: the live text report (what a user sees), then the same
# evidence judged again as JSON.
diagnose() {
  local name=$1; shift
  local status=0
  "$bin" diagnose "$@" --window "$WINDOW" --output "$here/$name.txt" --save-evidence "$here/$name.evidence.json" || status=$?
  "$bin" diagnose --replay "$here/$name.evidence.json" --format json --output "$here/$name.json" || true
  echo
  echo "=================== scenario: $name (exit $status) ==================="
  cat "$here/$name.txt"
}

# pgbench_scenario NAME WORKLOAD LOAD_DSN "PGBENCH FLAGS" CHOKEPOINT_TARGET_ARGS…
pgbench_scenario() {
  local name=$1 workload=$2 dsn=$3 flags=$4
  shift 4
  reset_stats
  # shellcheck disable=SC2086
  pgbench -n $flags -j 2 -T $((WINDOW + 3)) -f "$root/tests/workloads/$workload.sql" "$dsn" \
    >"$work/$name.pgbench.log" 2>&1 &
  local load=$!
  sleep 1
  diagnose "$name" "$@"
  wait "$load" || { echo "demo: pgbench failed:" >&2; cat "$work/$name.pgbench.log" >&2; exit 1; }
}

# A worker busy on 1 CPU inside a cgroup capped at 0.2 CPU (cgroup v1 cpu controller or v2 cpu.max).
throttled_worker() {
  local cg busy
  if [ -w /sys/fs/cgroup/cpu ]; then
    cg=/sys/fs/cgroup/cpu/chokepoint-demo-$$
    mkdir "$cg" && echo 100000 > "$cg/cpu.cfs_period_us" && echo 20000 > "$cg/cpu.cfs_quota_us"
  elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null && [ -w /sys/fs/cgroup ]; then
    echo +cpu > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    cg=/sys/fs/cgroup/chokepoint-demo-$$
    mkdir "$cg" && echo "20000 100000" > "$cg/cpu.max"
  else
    echo "demo: throttled_worker needs root and a writable cgroup cpu controller; skipped" >&2
    return 0
  fi
  sh -c "echo \$\$ > $cg/cgroup.procs && exec sh -c 'while :; do :; done'" &
  busy=$!
  sleep 0.5
  diagnose throttled_worker --pid "$busy"
  kill "$busy"; wait "$busy" 2>/dev/null || true
  rmdir "$cg"
}

for s in "${scenarios[@]}"; do
  case "$s" in
    missing_index|n_plus_one|healthy)
      pgbench_scenario "$s" "$s" "$PG_APP_DSN" "-c 4 -M prepared" --postgres "$PG_APP_DSN" ;;
    locks)  # hot-row updates in slow transactions
      pgbench_scenario locks hot_rows "$PG_APP_DSN" "-c 8 -M prepared" --postgres "$PG_APP_DSN" ;;
    no_pooling)  # a new connection per pgbench transaction (-C)
      pgbench_scenario no_pooling healthy "$PG_APP_DSN" "-c 4 -C" --postgres "$PG_APP_DSN" ;;
    pool_saturation)  # 16 clients on a PgBouncer pool of 2
      pgbench_scenario pool_saturation pooled_report "$PGB_SHOP_DSN" "-c 16" \
        --pgbouncer "$PGB_ADMIN_DSN" --postgres "$PG_APP_DSN" ;;
    held_transactions)  # fast statements, transactions held open by the application
      pgbench_scenario held_transactions held_transactions "$PGB_SHOP_DSN" "-c 16" \
        --pgbouncer "$PGB_ADMIN_DSN" --postgres "$PG_APP_DSN" ;;
    healthy_pooled)
      pgbench_scenario healthy_pooled healthy "$PGB_POOLED_DSN" "-c 4" \
        --pgbouncer "$PGB_ADMIN_DSN" --postgres "$PG_APP_DSN" ;;
    throttled_worker) throttled_worker ;;
    traces_n_plus_one)  # OTLP/JSON: 30 user lookups per request, half literal, half $1
      diagnose traces_n_plus_one --traces "$root/tests/fixtures/traces/otlp_n_plus_one.json" ;;
    traces_slow_dependency)  # Jaeger JSON: a third-party payments API holds the requests
      diagnose traces_slow_dependency --traces "$root/tests/fixtures/traces/jaeger_slow_dependency.json" ;;
    traces_code_hotspot)  # OTLP JSON Lines: one internal function holds the time
      diagnose traces_code_hotspot --traces "$root/tests/fixtures/traces/jsonl_code_hotspot.jsonl" ;;
    slow_dependency)  # a third-party API answering in ~400 ms next to a fast internal one
      diagnose slow_dependency --http "$HTTP_BASE/slow?ms=400" --http "$HTTP_BASE/fast" ;;
    cold_cache)  # 2 MB of maxmemory under random reads and writes over a million keys
      redis-benchmark -h 127.0.0.1 -p "$REDIS_SMALL_PORT" -a "$REDIS_PASSWORD" -q -t set -r 1000000 -d 200 \
        -n 100000000 -c 4 >/dev/null 2>&1 &
      writes=$!
      redis-benchmark -h 127.0.0.1 -p "$REDIS_SMALL_PORT" -a "$REDIS_PASSWORD" -q -t get -r 1000000 \
        -n 100000000 -c 4 >/dev/null 2>&1 &
      reads=$!
      sleep 1
      diagnose cold_cache --redis "$REDIS_SMALL_URL"
      kill "$writes" "$reads" 2>/dev/null; wait "$writes" "$reads" 2>/dev/null || true ;;
    *) echo "demo: unknown scenario $s" >&2; exit 2 ;;
  esac
done
