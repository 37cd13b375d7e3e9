#!/usr/bin/env bash
# Smoke test of the --prometheus harness (#25): services.sh starts the throwaway servers,
# prometheus.sh starts the exporters, Prometheus (with the backfilled series) and the tenant proxy;
# the checks below query the real engine, then everything is stopped.
#   tests/tools/test_prometheus_harness.sh    (about a minute; SHOP_ORDERS / LEVERS_EVENTS are
#                                              small here unless set: the shop's size is not tested)
# The checks are strings run by check() (eval), so $ stays unexpanded in their single quotes.
# shellcheck disable=SC2016,SC2034
set -euo pipefail
TOOLS=$(cd "$(dirname "$0")" && pwd)
export SHOP_ORDERS=${SHOP_ORDERS:-20000} LEVERS_EVENTS=${LEVERS_EVENTS:-20000}
DIR=$(mktemp -d /tmp/chokepoint-prom.XXXXXX)
cleanup() {
  "$TOOLS/prometheus.sh" stop "$DIR" >/dev/null 2>&1 || true
  "$TOOLS/services.sh" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

passed=0 failed=0
check() {  # NAME CONDITION
  if eval "$2"; then echo "ok    $1"; passed=$((passed + 1)); else echo "FAIL  $1"; failed=$((failed + 1)); fi
}
# val QUERY [TIME]: the first result's value ("none" without a result) of an instant query.
val() {
  curl -fsS "$PROM_URL/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'
}
# has QUERY [TIME]: the query succeeds and has a result.
has() {
  curl -fsS "$PROM_URL/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
    python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if d["status"] == "success" and d["data"]["result"] else 1)'
}
between() { python3 -c 'import sys; v = sys.argv[1]; sys.exit(0 if v != "none" and float(sys.argv[2]) <= float(v) <= float(sys.argv[3]) else 1)' "$@"; }

"$TOOLS/services.sh" start "$DIR" postgres shop pgbouncer redis http >/dev/null
"$TOOLS/prometheus.sh" start "$DIR"
# shellcheck disable=SC1091
. "$DIR/env"
for k in PROM_URL PROM_PORT NODE_EXPORTER_PORT PG_EXPORTER_PORT REDIS_EXPORTER_PORTS PROM_BACKFILL_END PROM_PROXY_URL PROM_TENANT; do
  check "DIR/env has $k" '[ -n "${!k:-}" ]'
done
E=$PROM_BACKFILL_END

# The scraped exporters.
check "every target up, each its own instance" '[ "$(val "count(up == 1)")" = 4 ] && [ "$(val "count(count by (instance) (up))")" = 4 ]'
check "pg_up 1" '[ "$(val pg_up)" = 1 ]'
check "redis_up 1 for both Redis servers" '[ "$(val "count(redis_up == 1)")" = 2 ]'
check "node: PSI or CPU seconds" 'has "count(node_pressure_cpu_waiting_seconds_total) or count(node_cpu_seconds_total)"'
check "node: netstat listen drops" 'has node_netstat_TcpExt_ListenDrops'
check "postgres: max_connections 60" '[ "$(val pg_settings_max_connections)" = 60 ]'
check "postgres: activity by state, max tx duration, locks" \
  'has "pg_stat_activity_count{datname=\"shop\",state=\"active\"}" &&
   has "pg_stat_activity_max_tx_duration{datname=\"shop\",state=\"idle in transaction\"}" &&
   has "sum(pg_locks_count{datname=\"shop\"})"'
check "postgres: xact_commit, blks_hit, blks_read, deadlocks of shop" \
  'has "pg_stat_database_xact_commit{datname=\"shop\"} + pg_stat_database_blks_hit{datname=\"shop\"} + pg_stat_database_blks_read{datname=\"shop\"} + pg_stat_database_deadlocks{datname=\"shop\"}"'
check "postgres: pg_stat_statements per queryid (calls, seconds, rows)" \
  'has "count(pg_stat_statements_calls_total{datname=\"shop\",user=\"app\",queryid!=\"\"})" &&
   has "count(pg_stat_statements_seconds_total)" && has "count(pg_stat_statements_rows_total)"'
check "redis: hits, misses, evictions, clients, maxclients, fragmentation, commands" \
  '[ "$(val "count(redis_keyspace_hits_total{redis=\"small\"} + redis_keyspace_misses_total + redis_evicted_keys_total + redis_connected_clients + redis_config_maxclients + redis_mem_fragmentation_ratio + redis_commands_processed_total)")" = 1 ]'

# The backfilled series, at PROM_BACKFILL_END.
check "backfill: checkout's CFS periods at PROM_BACKFILL_END" \
  'has "container_cpu_cfs_periods_total{pod=\"checkout-7d9f8-abcde\",container=\"checkout\"}" "$E"'
check "backfill: checkout throttled 50-60 % of periods, 0.5 CPU quota, usage at the quota" \
  'between "$(val "rate(container_cpu_cfs_throttled_periods_total{pod=\"checkout-7d9f8-abcde\",container=\"checkout\"}[5m]) / rate(container_cpu_cfs_periods_total{pod=\"checkout-7d9f8-abcde\",container=\"checkout\"}[5m])" "$E")" 0.5 0.6 &&
   [ "$(val "container_spec_cpu_quota{pod=\"checkout-7d9f8-abcde\",container=\"checkout\"} / container_spec_cpu_period{pod=\"checkout-7d9f8-abcde\",container=\"checkout\"}" "$E")" = 0.5 ] &&
   between "$(val "rate(container_cpu_usage_seconds_total{pod=\"checkout-7d9f8-abcde\",container=\"checkout\"}[5m])" "$E")" 0.46 0.5'
check "backfill: search at 96-98 % of its 512 MiB limit, 3 OOM events in the window, restarts 7" \
  'between "$(val "container_memory_working_set_bytes{pod=\"search-5c6b7-fghij\",container=\"search\"} / container_spec_memory_limit_bytes{pod=\"search-5c6b7-fghij\",container=\"search\"}" "$E")" 0.96 0.98 &&
   [ "$(val "container_spec_memory_limit_bytes{pod=\"search-5c6b7-fghij\",container=\"search\"}" "$E")" = 536870912 ] &&
   [ "$(val "container_oom_events_total{pod=\"search-5c6b7-fghij\"} - container_oom_events_total{pod=\"search-5c6b7-fghij\"} offset 30m" "$E")" = 3 ] &&
   [ "$(val "kube_pod_container_status_restarts_total{pod=\"search-5c6b7-fghij\"}" "$E")" = 7 ] &&
   [ "$(val "kube_pod_container_status_last_terminated_reason{pod=\"search-5c6b7-fghij\",reason=\"OOMKilled\"}" "$E")" = 1 ]'
check "backfill: every other container healthy (<= 2 % throttled, <= 50 % of a memory limit)" \
  '[ "$(val "count(rate(container_cpu_cfs_throttled_periods_total{pod!=\"checkout-7d9f8-abcde\",container!=\"\"}[5m]) / rate(container_cpu_cfs_periods_total[5m]) > 0.02)" "$E")" = none ] &&
   [ "$(val "count(container_memory_working_set_bytes{pod!=\"search-5c6b7-fghij\",container!=\"\"} / (container_spec_memory_limit_bytes > 0) > 0.5)" "$E")" = none ] &&
   [ "$(val "count(count by (pod) (container_memory_working_set_bytes{namespace=\"batch\",container!=\"\"}))" "$E")" = 2 ] &&
   [ "$(val "count(container_spec_memory_limit_bytes == 0)" "$E")" = 1 ]'
check "backfill: PSI for some containers" \
  'between "$(val "rate(container_pressure_memory_waiting_seconds_total{pod=\"search-5c6b7-fghij\"}[5m])" "$E")" 0.15 0.25'
check "backfill: pgbouncer pool shop waits 2 s with 14 clients waiting" \
  '[ "$(val "pgbouncer_pools_client_maxwait_seconds{database=\"shop\",user=\"app\"}" "$E")" = 2 ] &&
   [ "$(val "pgbouncer_pools_client_waiting_connections{database=\"shop\"}" "$E")" = 14 ] &&
   [ "$(val "pgbouncer_databases_pool_size{name=\"shop\"}" "$E")" = 2 ]'
check "backfill: blackbox payments slow (1.2 s processing), inventory failing" \
  '[ "$(val "probe_http_duration_seconds{instance=\"https://payments.example.com/healthz\",phase=\"processing\"}" "$E")" = 1.2 ] &&
   [ "$(val "probe_success{instance=\"https://inventory.example.com/healthz\"}" "$E")" = 0 ]'

# The tenant proxy.
code() { curl -s -o "$DIR/body" -w '%{http_code}' "$@"; }
check "proxy: 401 without X-Scope-OrgID" '[ "$(code "$PROM_PROXY_URL/api/v1/query?query=up")" = 401 ] && [ -s "$DIR/body" ]'
check "proxy: 401 for another tenant" '[ "$(code -H "X-Scope-OrgID: tenant-b" "$PROM_PROXY_URL/api/v1/query?query=up")" = 401 ]'
check "proxy: 404 outside /prometheus" '[ "$(code -H "X-Scope-OrgID: $PROM_TENANT" "${PROM_PROXY_URL%/prometheus}/api/v1/query?query=up")" = 404 ]'
check "proxy: GET with the tenant answers like Prometheus" \
  '[ "$(code -H "X-Scope-OrgID: $PROM_TENANT" "$PROM_PROXY_URL/api/v1/query?query=pg_up")" = 200 ] && grep -q "\"pg_up\"" "$DIR/body"'
check "proxy: POST form body" \
  '[ "$(code -H "X-Scope-OrgID: $PROM_TENANT" --data-urlencode "query=redis_up" "$PROM_PROXY_URL/api/v1/query")" = 200 ] && grep -q "\"redis_up\"" "$DIR/body"'
check "proxy: Prometheus errors pass through (400 bad_data)" \
  '[ "$(code -H "X-Scope-OrgID: $PROM_TENANT" "$PROM_PROXY_URL/api/v1/query?query=sum(")" = 400 ] && grep -q bad_data "$DIR/body"'

# stop, then a start again with a route prefix in the same directory.
"$TOOLS/prometheus.sh" stop "$DIR"
check "stop: Prometheus gone" '! (exec 3<>"/dev/tcp/127.0.0.1/$PROM_PORT") 2>/dev/null && [ -z "$(ls "$DIR"/prom/*.pid 2>/dev/null)" ]'
check "stop again: nothing to do, exit 0" '"$TOOLS/prometheus.sh" stop "$DIR"'
PROM_ROUTE_PREFIX=/prometheus "$TOOLS/prometheus.sh" start "$DIR"
# shellcheck disable=SC1091
. "$DIR/env"
check "route prefix: PROM_URL ends with /prometheus, queries work under it" \
  '[ "${PROM_URL%/prometheus}" != "$PROM_URL" ] && [ "$(val pg_up)" = 1 ] &&
   [ "$(code "http://127.0.0.1:$PROM_PORT/api/v1/query?query=up")" = 404 ]'
check "route prefix: DIR/env has one PROM_URL" '[ "$(grep -c "^PROM_URL=" "$DIR/env")" = 1 ]'
check "route prefix: through the proxy" \
  '[ "$(code -H "X-Scope-OrgID: $PROM_TENANT" "$PROM_PROXY_URL/api/v1/query?query=pg_up")" = 200 ] && grep -q "\"pg_up\"" "$DIR/body"'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
