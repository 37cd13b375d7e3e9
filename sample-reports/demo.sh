#!/usr/bin/env bash
# The demo: throwaway servers on loopback, a workload with a chosen bottleneck, chokepoint's
# diagnosis of it, and a summary table (scenario, verdict, exit code, why).
#
#   sample-reports/demo.sh [--write-samples] [CHOKEPOINT_BIN] [SCENARIO...]
#   scenarios: missing_index n_plus_one healthy locks no_pooling pool_saturation held_transactions
#              healthy_pooled throttled_worker slow_dependency cold_cache traces_n_plus_one
#              traces_slow_dependency traces_code_hotspot read_mostly event_log fleet (default: all)
#
# Reports (<scenario>.txt, .json, .html, .evidence.json) go to a new temporary directory, printed at the
# end; --write-samples writes them into sample-reports/ instead (tests/tools/bootstrap.sh samples).
# Every run uses --fail-on high, so a scenario with a high or critical finding exits 1.
# Servers: started under a temporary directory and stopped on exit, or, with
# CHOKEPOINT_TEST_SERVICES=DIR, the ones tests/tools/services.sh already started there.
# WINDOW (default 8) is the sampling window in seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"  # fixture paths in reports stay relative
write_samples=0
if [ "${1:-}" = --write-samples ]; then write_samples=1; shift; fi
bin=${1:-build/chokepoint}
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(missing_index n_plus_one healthy locks no_pooling pool_saturation
                                         held_transactions healthy_pooled throttled_worker slow_dependency
                                         cold_cache traces_n_plus_one traces_slow_dependency traces_code_hotspot
                                         read_mostly event_log fleet)
[ -x "$bin" ] || { echo "demo: $bin is not built (run tests/tools/bootstrap.sh demo)" >&2; exit 2; }
WINDOW=${WINDOW:-8}

work=$(mktemp -d /tmp/chokepoint-demo.XXXXXX)
if [ "$write_samples" = 1 ]; then out=$here; else out=$(mktemp -d /tmp/chokepoint-demo-reports.XXXXXX); fi
own_services=1
if [ -n "${CHOKEPOINT_TEST_SERVICES:-}" ]; then own_services=0; fi
cleanup() {
  if [ "$own_services" = 1 ]; then tests/tools/services.sh stop "$work" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$own_services" = 1 ]; then
  echo "demo: starting PostgreSQL 15, PgBouncer, Redis and HTTP dependencies on loopback (1M orders)…" >&2
  tests/tools/services.sh start "$work" postgres shop pgbouncer redis http >"$work/services.log" 2>&1 ||
    { cat "$work/services.log" >&2; exit 1; }
  services=$work
else
  services=$CHOKEPOINT_TEST_SERVICES
fi
# shellcheck disable=SC1091
. "$services/env"

summary=()  # "scenario<TAB>verdict<TAB>exit<TAB>why" per scenario

# The verdict and the reason of a JSON report, tab-separated.
verdict_of() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = r["verdict"]
cat = v["category"] or "none"
conf = " %d %%" % round(v["confidence"] * 100) if cat != "none" else ""
why = v["headline"]
if r["gate"]["status"] == "fail" and r["gate"]["reasons"]:
    why = "gate: " + r["gate"]["reasons"][0]
why = why if len(why) <= 90 else why[:89] + "…"
print(cat + conf + "\t" + why)
PY
}

reset_stats() {
  psql -X -q -v ON_ERROR_STOP=1 "$PG_SUPER_DSN" -c "SELECT pg_stat_statements_reset()" -c "SELECT pg_stat_reset()" >/dev/null
}

# diagnose NAME [chokepoint args…]: the live text report (what a user sees), then the same
# evidence judged again as JSON; one line of progress, one row of the summary.
diagnose() {
  local name=$1; shift
  local status=0
  "$bin" diagnose "$@" --window "$WINDOW" --fail-on high --output "$out/$name.txt" \
    --save-evidence "$out/$name.evidence.json" 2>"$work/$name.err" || status=$?
  "$bin" diagnose --replay "$out/$name.evidence.json" --fail-on high --format json \
    --output "$out/$name.json" 2>/dev/null || true
  "$bin" diagnose --replay "$out/$name.evidence.json" --fail-on high --format html \
    --output "$out/$name.html" 2>/dev/null || true
  if [ "$write_samples" = 1 ]; then  # committed files name no path of this machine
    sed -i -e "s|$services|<demo-servers>|g" -e "s|$root/|<repository>/|g" "$out/$name.txt" "$out/$name.evidence.json" "$out/$name.json" "$out/$name.html" 2>/dev/null || true
  fi
  local verdict="(no report)" why
  why=$(tail -n 1 "$work/$name.err")
  if [ -s "$out/$name.json" ]; then IFS=$'\t' read -r verdict why < <(verdict_of "$out/$name.json"); fi
  summary+=("$name"$'\t'"$verdict"$'\t'"$status"$'\t'"$why")
  printf 'demo: %-22s %-19s exit %s\n' "$name" "$verdict" "$status" >&2
}

# pgbench_scenario NAME WORKLOAD LOAD_DSN "PGBENCH FLAGS" CHOKEPOINT_TARGET_ARGS…
pgbench_scenario() {
  local name=$1 workload=$2 dsn=$3 flags=$4
  shift 4
  reset_stats
  # shellcheck disable=SC2086
  pgbench -n $flags -j 2 -T $((WINDOW + 3)) -f "tests/workloads/$workload.sql" "$dsn" \
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
    read_mostly)  # advice: a never-written price list read on every request (cache), reads >> writes (replicas)
      pgbench_scenario read_mostly read_mostly "$PG_LEVERS_DSN" "-c 4" --postgres "$PG_LEVERS_DSN" ;;
    event_log)  # advice: a time-ordered event log appended to, read and purged by time (partitioning; the
                # demo's 300k-row log is "large" through sample-reports/event_log.toml)
      pgbench_scenario event_log time_series "$PG_LEVERS_DSN" "-c 2" --postgres "$PG_LEVERS_DSN" \
        --config "$here/event_log.toml" ;;
    throttled_worker) throttled_worker ;;
    traces_n_plus_one)  # OTLP/JSON: 30 user lookups per request, half literal, half $1
      diagnose traces_n_plus_one --traces "tests/fixtures/traces/otlp_n_plus_one.json" ;;
    traces_slow_dependency)  # Jaeger JSON: a third-party payments API holds the requests
      diagnose traces_slow_dependency --traces "tests/fixtures/traces/jaeger_slow_dependency.json" ;;
    traces_code_hotspot)  # OTLP JSON Lines: one internal function holds the time
      diagnose traces_code_hotspot --traces "tests/fixtures/traces/jsonl_code_hotspot.jsonl" ;;
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
    fleet)  # a fleet through Prometheus: recorded pods, PgBouncer pools, blackbox probes and span metrics
            # (backfilled with promtool), and the exporters of the demo's own servers; the window that
            # ended two minutes before Prometheus started (--at)
      tests/tools/prometheus.sh start "$services" >"$work/prometheus.log" 2>&1 ||
        { cat "$work/prometheus.log" >&2; exit 1; }
      # shellcheck disable=SC1091
      . "$services/env"
      diagnose fleet --prometheus "$PROM_URL" --at "$PROM_BACKFILL_END"
      tests/tools/prometheus.sh stop "$services" >/dev/null 2>&1 || true ;;
    *) echo "demo: unknown scenario $s" >&2; exit 2 ;;
  esac
done

# Before and after as one page: the missing index, then the same queries with it.
if [ -s "$out/missing_index.json" ] && [ -s "$out/healthy.json" ]; then
  abs_bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")  # the page names the files as given
  (cd "$out" && "$abs_bin" compare missing_index.json healthy.json --format html \
    --output compare_missing_index_healthy.html 2>/dev/null) || true
fi

# The summary: one row per scenario, then where the reports are and what to try next.
echo
printf '%-22s  %-19s  %-4s  %s\n' SCENARIO VERDICT EXIT WHY
for row in "${summary[@]}"; do
  IFS=$'\t' read -r name verdict status why <<<"$row"
  printf '%-22s  %-19s  %-4s  %s\n' "$name" "$verdict" "$status" "$why"
done
echo
echo "Exit codes: 0 gate passed, 1 a high or critical finding failed the gate (--fail-on high),"
echo "3 a target could not be examined. Full reports (text, JSON, HTML, raw evidence) are in $out"
first=${summary[0]%%$'\t'*}
echo
echo "Next:"
echo "  less $out/$first.txt"
echo "      one report in full (or open $out/$first.html in a browser)"
echo "  $bin diagnose --replay $out/$first.evidence.json --format markdown"
echo "      the same evidence judged again, as the summary a CI job posts"
echo "  $bin diagnose --help"
echo "      point it at your own PostgreSQL, PgBouncer, Redis, HTTP dependencies or traces"
echo "  tests/tools/bootstrap.sh test"
echo "      the README's second command: build and run every test"
