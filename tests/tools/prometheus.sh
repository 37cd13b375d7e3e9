#!/usr/bin/env bash
# A real Prometheus (Debian's 2.42) scraping real exporters of the throwaway servers that
# tests/tools/services.sh started, plus backfilled Kubernetes / PgBouncer / blackbox series
# (tests/tools/cadvisor_series.py), and a Mimir-style tenant proxy in front: the engine the
# --prometheus probe (#25) is tested against. Everything on 127.0.0.1, random ports, under DIR/prom/.
#
#   prometheus.sh start DIR   after `services.sh start DIR postgres shop … redis …`
#   prometheus.sh stop DIR    (idempotent; services.sh stop DIR calls it too)
#
# It starts prometheus-node-exporter (job "node"), prometheus-postgres-exporter on the shop
# database as the pg_monitor role "app" (job "postgres", when DIR/env has PostgreSQL),
# one prometheus-redis-exporter per Redis server (job "redis", label redis="small"|"big", when
# DIR/env has Redis), Prometheus (scrape interval 1 s) and tests/tools/tenant_proxy.py.
# Each target's `instance` is the address of the server it watches (PostgreSQL's or Redis's
# 127.0.0.1:PORT; for node, the node exporter's). Before Prometheus starts, 30 minutes of recorded
# series ending at PROM_BACKFILL_END (= now - 120 s, step 15 s) are written into its storage.
#
# Environment:
#   PROM_ROUTE_PREFIX    e.g. /prometheus: Prometheus serves under that path (--web.route-prefix)
#   PROM_BACKFILL_PODS   extra healthy pods in the backfill (default 0; 1000 for a scale test)
#   PROM_START_TIMEOUT   seconds to wait for every target to be up (default 60)
#
# Appends to DIR/env: PROM_URL (the query API's base, no trailing slash: PROM_URL/api/v1/query),
# PROM_PORT, NODE_EXPORTER_PORT, PG_EXPORTER_PORT, REDIS_EXPORTER_PORTS (small,big),
# REDIS_SMALL_EXPORTER_PORT, REDIS_BIG_EXPORTER_PORT, PROM_BACKFILL_END (unix seconds),
# PROM_PROXY_URL (http://127.0.0.1:PORT/prometheus) and PROM_TENANT (tenant-a, for X-Scope-OrgID).
set -euo pipefail

TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "prometheus.sh: $*" >&2; exit 1; }
# shellcheck source=tests/tools/free_port.sh
. "$TOOLS/free_port.sh"

PROM_KEYS="PROM_URL PROM_PORT NODE_EXPORTER_PORT PG_EXPORTER_PORT REDIS_EXPORTER_PORTS REDIS_SMALL_EXPORTER_PORT
REDIS_BIG_EXPORTER_PORT PROM_BACKFILL_END PROM_PROXY_URL PROM_TENANT"

# Ports picked in one run are distinct (free_port only checks that nothing listens yet).
PICKED=" "
pick_port() {
  local p
  for _ in $(seq 1 20); do
    p=$(free_port)
    case "$PICKED" in *" $p "*) continue ;; esac
    PICKED="$PICKED$p "
    echo "$p"
    return
  done
  die "no free port found"
}

# run NAME CMD...: in the background, output to DIR/prom/NAME.log, pid in DIR/prom/NAME.pid.
run() {
  local name=$1; shift
  "$@" </dev/null >"$P/$name.log" 2>&1 &
  echo $! > "$P/$name.pid"
}

wait_port() {  # NAME PORT
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    kill -0 "$(cat "$P/$1.pid")" 2>/dev/null || { tail -n 20 "$P/$1.log" >&2; die "$1 exited"; }
    sleep 0.1
  done
  tail -n 20 "$P/$1.log" >&2
  die "$1 does not listen on 127.0.0.1:$2"
}

fail() {  # MESSAGE: show every log's tail, stop what was started, exit 1
  local f
  for f in "$P"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
  stop_all
  die "$1"
}

stop_all() {
  local f pid
  [ -d "$P" ] || return 0
  for f in "$P"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
  done
  for f in "$P"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

env_set() { echo "$1=$2" >> "$DIR/env"; }

pg_queries() {  # pg_stat_statements per statement, in the names of newer postgres_exporters
  cat <<'YAML'
pg_stat_statements:
  query: |
    SELECT d.datname, r.rolname AS user, s.queryid::text AS queryid,
           s.calls AS calls_total, s.total_exec_time / 1000.0 AS seconds_total, s.rows AS rows_total,
           s.blk_read_time / 1000.0 AS block_read_seconds_total,
           s.blk_write_time / 1000.0 AS block_write_seconds_total
    FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid
    JOIN pg_roles r ON r.oid = s.userid
    WHERE s.queryid IS NOT NULL AND d.datname NOT IN ('template0', 'template1')
    ORDER BY s.total_exec_time DESC
    LIMIT 100
  master: true
  metrics:
    - datname: {usage: LABEL, description: "Database of the statement"}
    - user: {usage: LABEL, description: "Role that ran the statement"}
    - queryid: {usage: LABEL, description: "pg_stat_statements queryid"}
    - calls_total: {usage: COUNTER, description: "Times the statement was executed"}
    - seconds_total: {usage: COUNTER, description: "Total time spent executing the statement, in seconds"}
    - rows_total: {usage: COUNTER, description: "Total rows retrieved or affected by the statement"}
    - block_read_seconds_total: {usage: COUNTER, description: "Time reading blocks, in seconds (track_io_timing)"}
    - block_write_seconds_total: {usage: COUNTER, description: "Time writing blocks, in seconds (track_io_timing)"}
YAML
}

# A directory left by an interrupted run: stop it, forget its addresses in DIR/env.
reset() {
  local keep k
  stop_all
  rm -rf "$P"
  keep=$(mktemp "$DIR/env.XXXXXX")
  grep -v -E "^($(printf %s "$PROM_KEYS" | tr ' \n' '||'))=" "$DIR/env" > "$keep" || true
  cat "$keep" > "$DIR/env"
  rm -f "$keep"
  for k in $PROM_KEYS; do unset "$k"; done
  mkdir -p "$P/data"
}

# The exporters, each with its scrape job appended to SCRAPE (prometheus.yml's scrape_configs).
# node: the collectors a host diagnosis reads (pressure and netstat among them), no others: the
# rest only log errors in a container (systemd, udev, hardware) and slow the 1 s scrapes.
start_exporters() {
  NODE_PORT=$(pick_port)
  run node-exporter prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" \
    --collector.disable-defaults --collector.cpu --collector.stat --collector.loadavg \
    --collector.meminfo --collector.vmstat --collector.pressure --collector.netstat \
    --collector.sockstat --collector.netdev --collector.filefd --collector.uname --collector.time
  SCRAPE="  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NODE_PORT']"
  if [ -n "${PG_APP_DSN:-}" ]; then
    PG_EXP_PORT=$(pick_port)
    pg_queries > "$P/pg_queries.yaml"
    DATA_SOURCE_NAME="$PG_APP_DSN?sslmode=disable" run postgres-exporter prometheus-postgres-exporter \
      --web.listen-address="127.0.0.1:$PG_EXP_PORT" --extend.query-path="$P/pg_queries.yaml"
    SCRAPE+="
  - job_name: postgres
    static_configs:
      - targets: ['127.0.0.1:$PG_EXP_PORT']
        labels: {instance: '127.0.0.1:$PG_PORT'}"
  fi
  if [ -n "${REDIS_SMALL_PORT:-}" ]; then
    SMALL_EXP_PORT=$(pick_port)
    BIG_EXP_PORT=$(pick_port)
    run redis-exporter-small prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$REDIS_SMALL_PORT" \
      -redis.password "$REDIS_PASSWORD" -web.listen-address "127.0.0.1:$SMALL_EXP_PORT"
    run redis-exporter-big prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$REDIS_BIG_PORT" \
      -web.listen-address "127.0.0.1:$BIG_EXP_PORT"
    SCRAPE+="
  - job_name: redis
    static_configs:
      - targets: ['127.0.0.1:$SMALL_EXP_PORT']
        labels: {instance: '127.0.0.1:$REDIS_SMALL_PORT', redis: small}
      - targets: ['127.0.0.1:$BIG_EXP_PORT']
        labels: {instance: '127.0.0.1:$REDIS_BIG_PORT', redis: big}"
  fi
}

# The recorded series, into the storage before Prometheus opens it (the time it took goes to
# DIR/prom/backfill.log).
backfill() {
  local t0
  t0=$(date +%s%N)
  python3 "$TOOLS/cadvisor_series.py" --end "$END" --minutes 30 --step 15 \
    --pods "${PROM_BACKFILL_PODS:-0}" --out "$P/backfill.om" || fail "cadvisor_series.py failed"
  promtool tsdb create-blocks-from openmetrics "$P/backfill.om" "$P/data" >"$P/backfill.log" 2>&1 ||
    fail "promtool could not backfill $P/backfill.om"
  rm -f "$P/backfill.om"
  echo "prometheus.sh: backfill of $(( ${PROM_BACKFILL_PODS:-0} + 7 )) pods: $(( ($(date +%s%N) - t0) / 1000000 )) ms" >> "$P/backfill.log"
}

start_prometheus() {
  local prefix=${PROM_ROUTE_PREFIX:-}
  if [ -n "$prefix" ]; then prefix="/${prefix#/}"; prefix=${prefix%/}; fi
  PROM_PORT_=$(pick_port)
  URL="http://127.0.0.1:$PROM_PORT_$prefix"
  cat > "$P/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
$SCRAPE
YML
  local web=(--web.listen-address="127.0.0.1:$PROM_PORT_")
  [ -n "$prefix" ] && web+=(--web.external-url="$URL" --web.route-prefix="$prefix")
  run prometheus prometheus --config.file="$P/prometheus.yml" --storage.tsdb.path="$P/data" \
    --storage.tsdb.retention.time=30d "${web[@]}"
}

# Every exporter and Prometheus listening, every target up (scraped successfully at least once),
# the backfilled blocks loaded.
wait_ready() {
  wait_port node-exporter "$NODE_PORT"
  [ -z "$PG_EXP_PORT" ] || wait_port postgres-exporter "$PG_EXP_PORT"
  [ -z "$SMALL_EXP_PORT" ] || { wait_port redis-exporter-small "$SMALL_EXP_PORT"; wait_port redis-exporter-big "$BIG_EXP_PORT"; }
  wait_port prometheus "$PROM_PORT_"
  local deadline=$(( $(date +%s) + ${PROM_START_TIMEOUT:-60} )) state=""
  while :; do
    state=$(curl -fsS "$URL/api/v1/targets?state=active" 2>/dev/null | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
bad = ["{} {}: {} {}".format(x["labels"]["job"], x["scrapeUrl"], x["health"], x["lastError"]) for x in t if x["health"] != "up"]
print("\n".join(bad) if bad else "up" if t else "no active target yet")' 2>/dev/null) || state="Prometheus does not answer on $URL"
    [ "$state" = up ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "scrape targets not up after ${PROM_START_TIMEOUT:-60} s: $state"
    kill -0 "$(cat "$P/prometheus.pid")" 2>/dev/null || fail "Prometheus exited"
    sleep 0.5
  done
  curl -fsS "$URL/api/v1/query" --data-urlencode \
    'query=container_cpu_cfs_periods_total{pod="checkout-7d9f8-abcde",container="checkout"}' \
    --data-urlencode "time=$END" | grep -q '"pod":"checkout-7d9f8-abcde"' ||
    fail "the backfilled series are not in Prometheus at $END"
}

write_env() {
  env_set PROM_URL "$URL"
  env_set PROM_PORT "$PROM_PORT_"
  env_set NODE_EXPORTER_PORT "$NODE_PORT"
  [ -z "$PG_EXP_PORT" ] || env_set PG_EXPORTER_PORT "$PG_EXP_PORT"
  if [ -n "$SMALL_EXP_PORT" ]; then
    env_set REDIS_EXPORTER_PORTS "$SMALL_EXP_PORT,$BIG_EXP_PORT"
    env_set REDIS_SMALL_EXPORTER_PORT "$SMALL_EXP_PORT"
    env_set REDIS_BIG_EXPORTER_PORT "$BIG_EXP_PORT"
  fi
  env_set PROM_BACKFILL_END "$END"
  env_set PROM_PROXY_URL "http://127.0.0.1:$PROXY_PORT/prometheus"
  env_set PROM_TENANT tenant-a
}

start() {
  # shellcheck disable=SC1091
  . "$DIR/env"
  reset
  NODE_PORT="" PG_EXP_PORT="" SMALL_EXP_PORT="" BIG_EXP_PORT="" SCRAPE=""
  END=$(( $(date +%s) - 120 ))
  start_exporters
  backfill
  start_prometheus
  wait_ready
  PROXY_PORT=$(pick_port)
  run tenant-proxy python3 "$TOOLS/tenant_proxy.py" --port "$PROXY_PORT" --upstream "$URL" --tenant tenant-a
  wait_port tenant-proxy "$PROXY_PORT"
  write_env
}

cmd=${1:-}; DIR=${2:-}
if [ -z "$cmd" ] || [ -z "$DIR" ]; then die "usage: prometheus.sh start|stop DIR"; fi
case "$cmd" in
  start)
    [ -f "$DIR/env" ] || die "$DIR/env not found: run tests/tools/services.sh start $DIR … first"
    DIR=$(cd "$DIR" && pwd); P=$DIR/prom
    start
    ;;
  stop)
    [ -d "$DIR" ] || exit 0
    DIR=$(cd "$DIR" && pwd); P=$DIR/prom
    stop_all
    ;;
  *) die "unknown command $cmd" ;;
esac
