#!/usr/bin/env bash
# CTest live.one_system (#23): one system, every probe, one verdict. The Node.js workload services
# (tests/workloads/node) run against the real PostgreSQL and Redis and export their spans straight
# to chokepoint's OTLP receiver, while ONE `chokepoint diagnose` watches everything at once:
#
#   --otlp-listen (the services' spans)  --postgres (the workloads' database node_workloads)
#   --redis (the workloads' Redis)       --pid (the entry service's node process: the host probe)
#   --http (an endpoint of the instrumented recommendations service: chokepoint's own GETs come
#           back through the receiver, and must not be taken for the system's requests)
#
# one case at a time, each with a known answer (one_system_judge.py checks the report):
#
#   orm_n_plus_one    ORM N+1 in the storefront           -> database, ONE db.n_plus_one finding
#                                                             seen by postgres and the traces
#   callee_cpu_bound  the recommendations callee burns CPU -> code, naming the callee (not
#                                                             chokepoint's own requests to it)
#   slow_scan         one client, a 1 M-row scan per call  -> database; db.slow_query's severity is
#                                                             the same from postgres and the traces
#   redis_get_per_id  GET per id from Redis                -> database, the cache N+1 as headline
#   cpu_quota         the storefront capped at 5 % of a core while its one query takes < 1 ms
#                                                           -> infrastructure (infra.cpu_throttling)
#   healthy           one primary-key lookup per request   -> none
#
#   test_one_system.sh CHOKEPOINT_BIN
#
#   CHOKEPOINT_TEST_SERVICES=DIR  PostgreSQL and Redis of `services.sh start DIR postgres redis ...`
#                                 (else started here in a temporary directory, and stopped)
#   NODE_WORKLOADS_DIR=DIR        where the workloads' npm packages are (capture.sh runs npm ci)
#   ONE_SYSTEM_CASES="a b"        a subset of the cases, in that order (default: all six)
#   ONE_SYSTEM_KEEP=DIR           keep every case's report there: CASE.json, CASE.evidence.json
#                                 (re-judge with `chokepoint diagnose --replay`), CASE.stderr,
#                                 CASE.judge.txt (one_system_judge.py CASE CASE.json CASE.context.json
#                                 [CASE.rejudged.json] judges it again), CASE.services.log
#   ONE_SYSTEM_WINDOW=SECONDS     each diagnosis's window (default 10)
#
# A machine busy with other work (>= 1 runnable task per CPU before a case starts) makes the host
# probe report infra.cpu_saturation whatever the case: the case's evidence is then judged again
# without that rule (--replay) and the checks are made on that report, saying so.
#
# Exit 0 every case right, 1 a case wrong (each case prints its verdict, headline, findings and the
# checks that failed), 2 set-up error, 77 skipped (the reason printed): node or npm missing, the
# npm packages cannot be installed, or no writable cgroup cpu controller (for cpu_quota).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NODE_DIR=$REPO/tests/workloads/node
BIN=${1:?usage: test_one_system.sh CHOKEPOINT_BIN}
ALL_CASES="orm_n_plus_one callee_cpu_bound slow_scan redis_get_per_id cpu_quota healthy"
read -r -a CASES <<< "${ONE_SYSTEM_CASES:-$ALL_CASES}"
WINDOW=${ONE_SYSTEM_WINDOW:-10}

say() { echo "test_one_system: $*"; }
skip() { say "SKIP: $*"; exit 77; }
die() { say "ERROR: $*" >&2; exit 2; }
# shellcheck source=tests/tools/free_port.sh
. "$HERE/free_port.sh"

[ -x "$BIN" ] || die "$BIN is not an executable"
for c in "${CASES[@]}"; do [[ " $ALL_CASES " == *" $c "* ]] || die "unknown case $c (known: $ALL_CASES)"; done
command -v node >/dev/null || skip "node is not installed (Node.js >= 18.19 is needed)"
command -v npm >/dev/null || skip "npm is not installed"

# --- the cgroup of the quota case: v1 (cpu controller) or v2 (cpu.max) ------------------------------
CG_ROOT='' CG_V2='' CG_NAME='' CG_DIR='' CAPPED_PID='' CAPPED_FROM=''
set_quota() {  # MICROSECONDS per 100 ms period, or "max"
  if [ -n "$CG_V2" ]; then echo "$1 100000" > "$CG_DIR/cpu.max"
  else echo 100000 > "$CG_DIR/cpu.cfs_period_us" && echo "${1/max/-1}" > "$CG_DIR/cpu.cfs_quota_us"; fi
}
make_cgroup() {
  if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    CG_ROOT=/sys/fs/cgroup/cpu
  elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    grep -qw cpu /sys/fs/cgroup/cgroup.controllers || skip "cgroup v2 without the cpu controller (cpu_quota)"
    echo +cpu > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
    CG_ROOT=/sys/fs/cgroup CG_V2=1
  else
    skip "no cgroup cpu controller is mounted (cpu_quota)"
  fi
  CG_NAME=chokepoint-one-system-$$
  mkdir "$CG_ROOT/$CG_NAME" 2>/dev/null ||
    skip "cannot create a cgroup under $CG_ROOT (cpu_quota): not root, or the controller is read-only"
  CG_DIR=$CG_ROOT/$CG_NAME
  set_quota 5000 2>/dev/null || skip "cannot set a CPU quota in $CG_DIR (cpu_quota)"
}
# Into the capped cgroup, and back where it came from (its path in the cpu hierarchy).
cap_process() {
  CAPPED_FROM=$(awk -F: -v v2="$CG_V2" '(v2 && $1 == "0") || (!v2 && $2 ~ /(^|,)cpu(,|$)/) { print $3; exit }' "/proc/$1/cgroup")
  echo "$1" > "$CG_DIR/cgroup.procs" && CAPPED_PID=$1
}
uncap_process() {
  [ -n "$CAPPED_PID" ] || return 0
  echo "$CAPPED_PID" > "$CG_ROOT${CAPPED_FROM%/}/cgroup.procs" 2>/dev/null
  CAPPED_PID=
}
# --- the servers: the caller's (CTest fixture) or our own -------------------------------------------
OWN_SERVICES='' SERVE_PID='' CHOKEPOINT_PID=''
stop_services() {
  uncap_process
  if [ -n "$CHOKEPOINT_PID" ]; then kill "$CHOKEPOINT_PID" 2>/dev/null; wait "$CHOKEPOINT_PID" 2>/dev/null; fi
  if [ -n "$SERVE_PID" ]; then kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; fi
  CHOKEPOINT_PID='' SERVE_PID=''
}
cleanup() {
  stop_services
  [ -n "$CG_DIR" ] && rmdir "$CG_DIR" 2>/dev/null
  [ -n "$OWN_SERVICES" ] && "$REPO/tests/tools/services.sh" stop "$OWN_SERVICES" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

WORK=$(mktemp -d /tmp/chokepoint-one-system.XXXXXX)
[ "$(id -u)" = 0 ] && chmod 755 "$WORK"
REPORTS=${ONE_SYSTEM_KEEP:-$WORK/reports}
mkdir -p "$REPORTS" || die "cannot create $REPORTS"
REPORTS=$(cd "$REPORTS" && pwd)
[[ " ${CASES[*]} " == *" cpu_quota "* ]] && make_cgroup

# --- the servers: the caller's (CTest fixture) or our own -------------------------------------------
if [ -z "${CHOKEPOINT_TEST_SERVICES:-}" ]; then
  OWN_SERVICES=$WORK/services
  say "starting PostgreSQL and Redis under $OWN_SERVICES"
  "$REPO/tests/tools/services.sh" start "$OWN_SERVICES" postgres redis >&2 || die "services.sh start failed"
  export CHOKEPOINT_TEST_SERVICES=$OWN_SERVICES
fi
[ -f "$CHOKEPOINT_TEST_SERVICES/env" ] || die "$CHOKEPOINT_TEST_SERVICES/env not found (services.sh start DIR postgres redis)"
# shellcheck disable=SC1091
. "$CHOKEPOINT_TEST_SERVICES/env"
{ [ -n "${PG_APP_DSN:-}" ] && [ -n "${REDIS_BIG_PORT:-}" ]; } || die "$CHOKEPOINT_TEST_SERVICES/env lacks PostgreSQL or Redis"
PG_DSN="${PG_APP_DSN%/*}/node_workloads"      # capture.sh loads it (and pg_stat_statements) once
REDIS_URL="redis://127.0.0.1:$REDIS_BIG_PORT/7"  # the workloads' cache (seed_cache.js)

# PostgreSQL's own measure of one statement in the workloads' database: "calls total_ms".
statement_stats() {
  psql -X -tA -F' ' "$PG_SUPER_DSN dbname=node_workloads" -c "SELECT coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = 'node_workloads' AND s.query = \$q\$$1\$q\$" 2>/dev/null || echo "0 0"
}

# --- one case -------------------------------------------------------------------------------------
# Sets SCENARIO, DRIVE (serve.js drive options), STATEMENT (the statement whose server time is
# measured), SCORING_MS (the recommendations service's CPU per request).
# shellcheck disable=SC2016  # the statements hold $1 placeholders, not shell expansions
case_plan() {
  SCORING_MS=2 STATEMENT=
  case $1 in
    orm_n_plus_one) SCENARIO=orm_n_plus_one DRIVE=(--requests 80 --pause-ms 40)
      STATEMENT='SELECT id, name, price_cents, stock FROM products WHERE id = $1' ;;
    callee_cpu_bound) SCENARIO=callee_cpu_bound DRIVE=(--requests 25) SCORING_MS=150 ;;
    slow_scan) SCENARIO=slow_scan DRIVE=(--requests 60)
      STATEMENT='SELECT status, count(*) AS orders, sum(total_cents) AS total_cents FROM orders WHERE customer_id = $1 GROUP BY status' ;;
    redis_get_per_id) SCENARIO=redis_get_per_id DRIVE=(--requests 80 --pause-ms 40) ;;
    cpu_quota) SCENARIO=healthy DRIVE=(--requests 400 --concurrency 4)
      STATEMENT='SELECT id, name, price_cents, stock, category_id FROM products WHERE id = $1' ;;
    healthy) SCENARIO=healthy DRIVE=(--requests 60 --pause-ms 80)
      STATEMENT='SELECT id, name, price_cents, stock, category_id FROM products WHERE id = $1' ;;
  esac
}

# Runnable tasks per CPU on this machine now (procs_running over one second, the sampler aside): how
# busy it is with work of others before a case's services start.
ambient_runnable_per_cpu() {
  python3 -c 'import os, time
samples = []
for _ in range(10):
    with open("/proc/stat") as f:
        samples += [int(l.split()[1]) - 1 for l in f if l.startswith("procs_running")]
    time.sleep(0.1)
print(round(max(0, sum(samples) / len(samples)) / os.cpu_count(), 2))'
}

# A machine busy with other work (a CI runner's neighbours, parallel builds) makes the host probe
# report infra.cpu_saturation whatever the case: the same evidence is then judged again with that
# rule off (--replay), and the checks are made on that report; the live verdict is printed too.
BUSY_RUNNABLE_PER_CPU=1.0
rejudge_without_host_saturation() {  # CASE AMBIENT: prints the re-judged report's path, if made
  local name=$1 ambient=$2
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if any(f["rule"] == "infra.cpu_saturation" for f in r["findings"]) else 1)' "$REPORTS/$name.json" || return 0
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$ambient" "$BUSY_RUNNABLE_PER_CPU" || return 0
  printf '[rules."infra.cpu_saturation"]\nlevel = "off"\n' > "$WORK/no_host_saturation.toml"
  "$BIN" diagnose --replay "$REPORTS/$name.evidence.json" --config "$WORK/no_host_saturation.toml" --format json \
    --output "$REPORTS/$name.rejudged.json" 2>>"$REPORTS/$name.stderr" && echo "$REPORTS/$name.rejudged.json"
}

# The scan must be slow whoever loaded the workloads' database first (workloads.capture loads 100k
# orders for speed): orders is topped up to N rows, as shop.sql generates them.
ensure_orders() {  # N
  psql -X -q -v ON_ERROR_STOP=1 "$PG_DSN" -c "INSERT INTO orders (customer_id, status, total_cents, created_at)
    SELECT 1 + (hashint4(i) & 2147483647) % 20000, (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + i % 4],
           500 + i % 20000, now() - make_interval(secs => i)
    FROM generate_series(((SELECT count(*) FROM orders) + 1)::int, $1) i" -c "ANALYZE orders" >&2 ||
    die "cannot top up orders to $1 rows in node_workloads"
}

wait_for() {  # SECONDS WHAT COMMAND...: until COMMAND succeeds (0); 2 from it: give up at once
  local deadline=$(( $(date +%s) + $1 )) what=$2 rc; shift 2
  while :; do
    "$@"; rc=$?
    [ "$rc" = 0 ] && return 0
    [ "$rc" = 2 ] && return 1
    (( $(date +%s) < deadline )) || { say "$what: timed out"; return 1; }
    sleep 0.2
  done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; kill -0 "$CHOKEPOINT_PID" 2>/dev/null || return 2; return 1; }
alive_with_file() { kill -0 "$SERVE_PID" 2>/dev/null || return 2; [ -f "$1" ]; }

run_case() {
  local name=$1 dir=$WORK/$1 port entry_url entry_pid dep_url rc before after ambient rejudged
  case_plan "$name"
  mkdir -p "$dir"
  port=$(free_port)
  ambient=$(ambient_runnable_per_cpu)
  say "=== $name (scenario $SCENARIO, window ${WINDOW} s; $ambient runnable tasks per CPU before it)"

  # The scenario's services plus the --http dependency, exporting to the receiver-to-be.
  OTLP_ENDPOINT="http://127.0.0.1:$port" OTLP_PROTOCOL=http/protobuf SCORING_MS=$SCORING_MS \
    "$NODE_DIR/capture.sh" --serve "$dir/state" "$SCENARIO" --with recommendations >"$REPORTS/$name.services.log" 2>&1 &
  SERVE_PID=$!
  wait_for 180 "the services of $SCENARIO" alive_with_file "$dir/state/services.json"
  if ! [ -f "$dir/state/services.json" ]; then
    wait "$SERVE_PID"; rc=$?; SERVE_PID=
    tail -5 "$REPORTS/$name.services.log"
    [ "$rc" = 77 ] && skip "the workloads cannot run: $(grep SKIP "$REPORTS/$name.services.log" | tail -1)"
    die "the services of $SCENARIO did not start (capture.sh --serve exited $rc; $REPORTS/$name.services.log)"
  fi
  read -r entry_url entry_pid dep_url < <(python3 -c 'import json, sys
s = json.load(open(sys.argv[1])); e = s["services"][s["entry"]]
print(e["url"], e["pid"], s["services"]["recommendations"]["url"])' "$dir/state/services.json")
  if [ "$name" = cpu_quota ]; then
    cap_process "$entry_pid" || die "cannot move pid $entry_pid into $CG_DIR"
  fi
  [ "$name" = slow_scan ] && ensure_orders 1000000
  before=$(statement_stats "$STATEMENT")

  "$BIN" diagnose --otlp-listen "127.0.0.1:$port" --postgres "$PG_DSN" --redis "$REDIS_URL" --pid "$entry_pid" \
    --http "$dep_url/health" --window "$WINDOW" --format json --output "$REPORTS/$name.json" \
    --save-evidence "$REPORTS/$name.evidence.json" 2>"$REPORTS/$name.stderr" &
  CHOKEPOINT_PID=$!
  local started=$SECONDS
  if ! wait_for 30 "chokepoint's receiver on $port" listening "$port"; then
    stop_services
    say "FAIL $name: chokepoint's OTLP receiver never listened: $(tail -3 "$REPORTS/$name.stderr")"
    return 1
  fi
  sleep 0.5
  # The load, bounded in requests and in time: the last spans reach the receiver before the window ends.
  local drive_s=$(( WINDOW - 4 - (SECONDS - started) ))
  (( drive_s >= 2 )) || drive_s=2
  node "$NODE_DIR/serve.js" drive "$SCENARIO" "$entry_url" "${DRIVE[@]}" --seconds "$drive_s" \
    >"$dir/drive.json" 2>"$dir/drive.err" ||
    say "the load driver failed: $(cat "$dir/drive.err")"
  wait "$CHOKEPOINT_PID"; rc=$?; CHOKEPOINT_PID=
  after=$(statement_stats "$STATEMENT")
  stop_services
  say "load: $(cat "$dir/drive.json" 2>/dev/null); chokepoint exited $rc"
  if ! [ -s "$REPORTS/$name.json" ]; then
    say "FAIL $name: no report (chokepoint exited $rc): $(tail -3 "$REPORTS/$name.stderr")"
    return 1
  fi

  python3 - "$REPORTS/$name.context.json" "$name" "$CG_NAME" "$dep_url/health" "$before" "$after" "$dir/drive.json" "$ambient" <<'EOF'
import json, sys
out, name, cgroup, http_url, before, after, drive, ambient = sys.argv[1:9]
(c0, t0), (c1, t1) = (map(float, s.split()) for s in (before, after))
calls = c1 - c0
try:
    drive = json.load(open(drive))
except (OSError, ValueError):
    drive = None
json.dump({"case": name, "entry": "storefront", "dependency": "recommendations",
           "dependency_route": "/health", "http_url": http_url, "cgroup": cgroup,
           "statement_calls": calls, "statement_ms": round((t1 - t0) / calls, 3) if calls else None,
           "drive": drive, "ambient_runnable_per_cpu": float(ambient)}, open(out, "w"))
EOF
  rejudged=$(rejudge_without_host_saturation "$name" "$ambient")
  # The postgres probe folds a slow query into the missing index that explains it: the same evidence
  # judged without db.missing_index shows the slow query's own severity, for the probes to be compared.
  printf '[rules."db.missing_index"]\nlevel = "off"\n' > "$WORK/no_index.toml"
  "$BIN" diagnose --replay "$REPORTS/$name.evidence.json" --config "$WORK/no_index.toml" --format json \
    --output "$REPORTS/$name.no_index.json" 2>>"$REPORTS/$name.stderr" || true
  python3 "$HERE/one_system_judge.py" "$name" "$REPORTS/$name.json" "$REPORTS/$name.context.json" ${rejudged:+"$rejudged"} | tee "$REPORTS/$name.judge.txt"
  rc=${PIPESTATUS[0]}
  if [ "$rc" = 0 ]; then say "PASS $name"; else say "FAIL $name"; fi
  return "$rc"
}

passed=() failed=()
for c in "${CASES[@]}"; do
  if run_case "$c"; then passed+=("$c"); else failed+=("$c"); fi
done
say "passed (${#passed[@]}): ${passed[*]:-none}"
say "failed (${#failed[@]}): ${failed[*]:-none}"
for c in "${failed[@]}"; do
  say "  $c: $(grep -h '^  FAIL  ' "$REPORTS/$c.judge.txt" 2>/dev/null | sed 's/^  FAIL  //' | paste -sd';' - | sed 's/;/; /g')"
done
[ -n "${ONE_SYSTEM_KEEP:-}" ] && say "reports in $REPORTS"
[ ${#failed[@]} = 0 ]
