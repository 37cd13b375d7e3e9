#include "probes/prometheus/queries.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace cp::prom {

const std::vector<FamilySpec>& families() {
  static const std::vector<FamilySpec> all = {
      {"container", "cAdvisor (kubelet /metrics/cadvisor)", {"namespace", "pod", "container"},
       "container.cpu_usage_seconds"},
      {"host", "node_exporter", {"instance"}, "host.cpu_seconds"},
      {"postgres", "postgres_exporter", {"instance"}, "postgres.up"},
      {"redis", "redis_exporter", {"instance"}, "redis.commands"},
      {"pgbouncer", "pgbouncer_exporter (prometheus-community)", {"instance"}, "pgbouncer.client_active"},
      {"http", "blackbox_exporter (http probes)", {"instance"}, "http.duration"},
      // Requests from span metrics: measured (rate, errors, p95 per route), not judged.
      {"requests", "span metrics (spanmetrics connector, Tempo)", {"service_name", "service", "span_name"},
       "requests.calls"},
  };
  return all;
}

const FamilySpec* find_family(std::string_view kind) {
  for (const auto& f : families())
    if (f.kind == kind) return &f;
  return nullptr;
}

// Containers: cAdvisor's cgroup counters per container (not the pod's sandbox "POD", not the
// pod-level sums without a container label), kube-state-metrics' OOM restarts.
#define CP_CONTAINER "{container!=\"\",container!=\"POD\"$and}"
#define CP_SERVER "span_kind=~\"SPAN_KIND_SERVER|server\""

const std::vector<QuerySpec>& query_catalog() {
  static const std::vector<QuerySpec> all = {
      {"container.cpu_usage_seconds", {"container_cpu_usage_seconds_total"},
       "sum by ($by) (increase($name" CP_CONTAINER "[$range]))"},
      {"container.cpu_periods", {"container_cpu_cfs_periods_total"},
       "sum by ($by) (increase($name" CP_CONTAINER "[$range]))"},
      {"container.cpu_throttled_periods", {"container_cpu_cfs_throttled_periods_total"},
       "sum by ($by) (increase($name" CP_CONTAINER "[$range]))"},
      {"container.cpu_throttled_seconds", {"container_cpu_cfs_throttled_seconds_total"},
       "sum by ($by) (increase($name" CP_CONTAINER "[$range]))"},
      {"container.cpu_quota", {"container_spec_cpu_quota"}, "max by ($by) ($name" CP_CONTAINER ")"},
      {"container.cpu_period", {"container_spec_cpu_period"}, "max by ($by) ($name" CP_CONTAINER ")"},
      {"container.memory_working_set", {"container_memory_working_set_bytes"},
       "max by ($by) (max_over_time($name" CP_CONTAINER "[$range]))"},
      {"container.memory_limit", {"container_spec_memory_limit_bytes"}, "max by ($by) ($name" CP_CONTAINER ")"},
      {"container.oom_events", {"container_oom_events_total"},
       "sum by ($by) (increase($name" CP_CONTAINER "[$range]))"},
      // kube-state-metrics: a restart whose last termination was an OOM kill, in the window.
      {"container.oom_restarts", {"kube_pod_container_status_restarts_total"},
       "sum by ($by) (increase($name{$sel}[$range])) and on ($by) "
       "(max by ($by) (kube_pod_container_status_last_terminated_reason{reason=\"OOMKilled\"$and}) > 0)"},
      {"container.cpu_pressure", {"container_pressure_cpu_waiting_seconds_total"},
       "100 * sum by ($by) (rate($name" CP_CONTAINER "[$range]))"},
      {"container.memory_pressure", {"container_pressure_memory_waiting_seconds_total"},
       "100 * sum by ($by) (rate($name" CP_CONTAINER "[$range]))"},
      {"container.memory_pressure_full", {"container_pressure_memory_stalled_seconds_total"},
       "100 * sum by ($by) (rate($name" CP_CONTAINER "[$range]))"},

      {"host.cpu_seconds", {"node_cpu_seconds_total", "node_cpu"},
       "sum by ($by, mode) (increase($name{$sel}[$range]))"},
      {"host.cpus", {"node_cpu_seconds_total", "node_cpu"}, "count by ($by) ($name{mode=\"idle\"$and})"},
      {"host.procs_running", {"node_procs_running"}, "avg by ($by) (avg_over_time($name{$sel}[$range]))"},
      {"host.cpu_pressure", {"node_pressure_cpu_waiting_seconds_total"},
       "100 * avg by ($by) (rate($name{$sel}[$range]))"},
      {"host.memory_pressure", {"node_pressure_memory_waiting_seconds_total"},
       "100 * avg by ($by) (rate($name{$sel}[$range]))"},
      {"host.memory_pressure_full", {"node_pressure_memory_stalled_seconds_total"},
       "100 * avg by ($by) (rate($name{$sel}[$range]))"},
      {"host.listen_drops", {"node_netstat_TcpExt_ListenDrops"}, "sum by ($by) (increase($name{$sel}[$range]))"},
      {"host.listen_overflows", {"node_netstat_TcpExt_ListenOverflows"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"host.retrans_segs", {"node_netstat_Tcp_RetransSegs"}, "sum by ($by) (increase($name{$sel}[$range]))"},
      {"host.out_segs", {"node_netstat_Tcp_OutSegs"}, "sum by ($by) (increase($name{$sel}[$range]))"},
      {"host.oom_kill", {"node_vmstat_oom_kill"}, "sum by ($by) (increase($name{$sel}[$range]))"},
      {"host.swap_in", {"node_vmstat_pswpin"}, "sum by ($by) (increase($name{$sel}[$range]))"},
      {"host.swap_out", {"node_vmstat_pswpout"}, "sum by ($by) (increase($name{$sel}[$range]))"},

      {"postgres.up", {"pg_up"}, "max by ($by) ($name{$sel})"},
      {"postgres.max_connections", {"pg_settings_max_connections"}, "max by ($by) ($name{$sel})"},
      {"postgres.reserved_connections", {"pg_settings_superuser_reserved_connections"},
       "max by ($by) ($name{$sel})"},
      // The peak of each database's and state's count, summed: the server's peak, or a little above.
      {"postgres.sessions", {"pg_stat_activity_count"},
       "sum by ($by, state) (max_over_time($name{$sel}[$range]))"},
      {"postgres.max_tx_duration", {"pg_stat_activity_max_tx_duration"},
       "max by ($by, state) (max_over_time($name{$sel}[$range]))"},
      {"postgres.xact_commit", {"pg_stat_database_xact_commit", "pg_stat_database_xact_commit_total"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"postgres.xact_rollback", {"pg_stat_database_xact_rollback", "pg_stat_database_xact_rollback_total"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"postgres.blks_hit", {"pg_stat_database_blks_hit", "pg_stat_database_blks_hit_total"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"postgres.blks_read", {"pg_stat_database_blks_read", "pg_stat_database_blks_read_total"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"postgres.deadlocks", {"pg_stat_database_deadlocks", "pg_stat_database_deadlocks_total"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"postgres.sessions_opened", {"pg_stat_database_sessions", "pg_stat_database_sessions_total"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      // pg_stat_statements (postgres_exporter's stat_statements collector): each server's 20 statements
      // with the most execution time in the window, and their calls and rows.
      {"postgres.statement_seconds", {"pg_stat_statements_seconds_total"},
       "topk by ($by) (20, sum by ($by, datname, queryid) (increase($name{$sel}[$range])))"},
      {"postgres.statement_calls", {"pg_stat_statements_calls_total"},
       "sum by ($by, datname, queryid) (increase($name{$sel}[$range])) and on ($by, datname, queryid) "
       "topk by ($by) (20, sum by ($by, datname, queryid) (increase(pg_stat_statements_seconds_total{$sel}[$range])))"},
      {"postgres.statement_rows", {"pg_stat_statements_rows_total"},
       "sum by ($by, datname, queryid) (increase($name{$sel}[$range])) and on ($by, datname, queryid) "
       "topk by ($by) (20, sum by ($by, datname, queryid) (increase(pg_stat_statements_seconds_total{$sel}[$range])))"},

      {"redis.hits", {"redis_keyspace_hits_total", "redis_keyspace_hits"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"redis.misses", {"redis_keyspace_misses_total", "redis_keyspace_misses"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"redis.evicted_keys", {"redis_evicted_keys_total", "redis_evicted_keys"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"redis.rejected_connections", {"redis_rejected_connections_total", "redis_rejected_connections"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"redis.commands", {"redis_commands_processed_total", "redis_commands_processed"},
       "sum by ($by) (increase($name{$sel}[$range]))"},
      {"redis.connected_clients", {"redis_connected_clients"}, "max by ($by) (max_over_time($name{$sel}[$range]))"},
      {"redis.blocked_clients", {"redis_blocked_clients"}, "max by ($by) (max_over_time($name{$sel}[$range]))"},
      {"redis.maxclients", {"redis_config_maxclients"}, "max by ($by) ($name{$sel})"},
      {"redis.fragmentation", {"redis_mem_fragmentation_ratio"}, "max by ($by) ($name{$sel})"},
      {"redis.used_memory", {"redis_memory_used_bytes"}, "max by ($by) ($name{$sel})"},
      {"redis.used_memory_rss", {"redis_memory_used_rss_bytes"}, "max by ($by) ($name{$sel})"},
      {"redis.maxmemory", {"redis_memory_max_bytes"}, "max by ($by) ($name{$sel})"},

      // PgBouncer: each pool (database, user) through the window; the databases' pool sizes.
      {"pgbouncer.client_active", {"pgbouncer_pools_client_active_connections"},
       "max by ($by, database, user) (avg_over_time($name{$sel}[$range]))"},
      {"pgbouncer.client_waiting", {"pgbouncer_pools_client_waiting_connections"},
       "max by ($by, database, user) (avg_over_time($name{$sel}[$range]))"},
      {"pgbouncer.client_waiting_max", {"pgbouncer_pools_client_waiting_connections"},
       "max by ($by, database, user) (max_over_time($name{$sel}[$range]))"},
      {"pgbouncer.server_active", {"pgbouncer_pools_server_active_connections"},
       "max by ($by, database, user) (avg_over_time($name{$sel}[$range]))"},
      {"pgbouncer.maxwait", {"pgbouncer_pools_client_maxwait_seconds"},
       "max by ($by, database, user) (max_over_time($name{$sel}[$range]))"},
      {"pgbouncer.pool_size", {"pgbouncer_databases_pool_size"}, "max by ($by, name, pool_mode) ($name{$sel})"},
      {"pgbouncer.xacts", {"pgbouncer_stats_sql_transactions_pooled_total"},
       "sum by ($by, database) (increase($name{$sel}[$range]))"},
      {"pgbouncer.queries", {"pgbouncer_stats_queries_pooled_total"},
       "sum by ($by, database) (increase($name{$sel}[$range]))"},
      {"pgbouncer.xact_seconds", {"pgbouncer_stats_server_in_transaction_seconds_total"},
       "sum by ($by, database) (increase($name{$sel}[$range]))"},
      {"pgbouncer.query_seconds", {"pgbouncer_stats_queries_duration_seconds_total"},
       "sum by ($by, database) (increase($name{$sel}[$range]))"},
      {"pgbouncer.wait_seconds", {"pgbouncer_stats_client_wait_seconds_total"},
       "sum by ($by, database) (increase($name{$sel}[$range]))"},

      // blackbox_exporter's HTTP probes: each phase's average and 95th percentile over the window,
      // the share of probes that succeeded, how many ran, the last status.
      {"http.duration", {"probe_http_duration_seconds"},
       "avg by ($by, phase) (avg_over_time($name{$sel}[$range]))"},
      {"http.duration_p95", {"probe_http_duration_seconds"},
       "max by ($by, phase) (quantile_over_time(0.95, $name{$sel}[$range]))"},
      {"http.success", {"probe_success"}, "avg by ($by) (avg_over_time($name{$sel}[$range]))"},
      {"http.probes", {"probe_success"}, "sum by ($by) (count_over_time($name{$sel}[$range]))"},
      {"http.status", {"probe_http_status_code"}, "max by ($by) ($name{$sel})"},

      // Span metrics of server spans: the 20 busiest routes' calls, errors and p95 (milliseconds or
      // seconds, by the histogram's name).
      {"requests.calls",
       {"traces_span_metrics_calls_total", "traces_spanmetrics_calls_total", "calls_total"},
       "topk(20, sum by ($by) (increase($name{" CP_SERVER "$and}[$range])))"},
      {"requests.errors",
       {"traces_span_metrics_calls_total", "traces_spanmetrics_calls_total", "calls_total"},
       "sum by ($by) (increase($name{" CP_SERVER ",status_code=\"STATUS_CODE_ERROR\"$and}[$range]))"},
      {"requests.p95_ms", {"traces_span_metrics_duration_milliseconds_bucket", "latency_bucket"},
       "histogram_quantile(0.95, sum by ($by, le) (rate($name{" CP_SERVER "$and}[$range])))"},
      {"requests.p95_s", {"traces_spanmetrics_latency_bucket", "traces_span_metrics_duration_seconds_bucket"},
       "histogram_quantile(0.95, sum by ($by, le) (rate($name{" CP_SERVER "$and}[$range])))"},
  };
  return all;
}

#undef CP_CONTAINER
#undef CP_SERVER

const std::vector<std::string_view>& span_metric_names() {
  static const std::vector<std::string_view> names = {
      "traces_span_metrics_calls_total",  // OpenTelemetry Collector spanmetrics connector
      "traces_spanmetrics_calls_total",   // Grafana Tempo metrics-generator, Grafana Agent
      "calls_total",                      // the collector's older spanmetrics processor
  };
  return names;
}

std::string_view family_of(std::string_view query_id) {
  return query_id.substr(0, query_id.find('.'));
}

std::string matchers_of(std::string_view selector) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("--match: expected a selector of label matchers such as "
                                  "'{{namespace=\"shop\"}}', not \"{}\" ({})",
                                  selector, why));
  };
  size_t first = selector.find_first_not_of(" \t"), last = selector.find_last_not_of(" \t");
  if (first == std::string_view::npos || selector[first] != '{' || selector[last] != '}')
    throw bad("a metric name is not allowed: only the part in braces");
  std::string_view inner = selector.substr(first + 1, last - first - 1);
  // Braces inside quotes are label values; outside, they would end the selector early.
  bool quoted = false;
  for (size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    if (quoted && c == '\\') ++i;
    else if (c == '"' || c == '\'' || c == '`') quoted = !quoted;
    else if (!quoted && (c == '{' || c == '}')) throw bad("unbalanced braces");
  }
  if (quoted) throw bad("an unterminated quote");
  size_t a = inner.find_first_not_of(" \t"), b = inner.find_last_not_of(" \t,");
  return a == std::string_view::npos ? "" : std::string(inner.substr(a, b - a + 1));
}

namespace {

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
}

std::string keys_of(std::string_view query_id) {
  const FamilySpec* f = find_family(family_of(query_id));
  std::string by;
  for (auto k : f->keys) by += (by.empty() ? "" : ", ") + std::string(k);
  return by;
}

}  // namespace

std::string render_query(const QuerySpec& q, std::string_view name, std::string_view matchers, double range_s) {
  std::string e(q.expr);
  replace_all(e, "$name", name);
  replace_all(e, "$and", matchers.empty() ? "" : "," + std::string(matchers));
  replace_all(e, "$sel", matchers);
  replace_all(e, "$range", fmt::format("{}s", static_cast<long long>(std::llround(range_s))));
  replace_all(e, "$by", keys_of(q.id));
  return e;
}

std::string_view pick_name(const QuerySpec& q, const std::set<std::string>& present) {
  for (auto n : q.names)
    if (present.count(std::string(n))) return n;
  return {};
}

std::set<std::string> wanted_names() {
  std::set<std::string> out;
  for (const auto& q : query_catalog())
    for (auto n : q.names) out.emplace(n);
  out.emplace("kube_pod_container_status_last_terminated_reason");
  for (auto n : span_metric_names()) out.emplace(n);
  return out;
}

}  // namespace cp::prom
