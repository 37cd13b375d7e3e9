// The levers as data: when each piece of advice is given, its thresholds and their sources.
#include "core/advice.hpp"

namespace cp {

namespace {
constexpr std::string_view kChokepoint = "chokepoint default (documented in src/core/CONTRACT.md, Advice)";
constexpr std::string_view kIssue = "chokepoint default: a 10:1 read:write split by database time";
constexpr std::string_view kPgBouncerDocs =
    "PgBouncer docs (pool_mode, default_pool_size, reserve_pool_size, max_client_conn)";
constexpr std::string_view kPgDocsPartitioning =
    "PostgreSQL docs 5.11.1: partitioning pays off when a table would otherwise be very large (rule of "
    "thumb: larger than the server's memory)";
constexpr std::string_view kConnAlert = "postgres_exporter mixin: connections above 90 % of max_connections";
}  // namespace

const std::vector<RuleSpec>& advice_catalog() {
  static const std::vector<RuleSpec> catalog = {
      {"advice.do_not_scale_out",
       Category::database,
       "the verdict is database or network: more application instances add connections and load to the "
       "bottleneck, not capacity",
       "Fix the named bottleneck first; keep the instance count until the database (or dependency) has "
       "headroom.",
       {{"min_verdict_confidence", 0.5, "ratio", "confidence of the verdict before advising against scaling",
         kChokepoint}},
       {"verdict", "verdict_confidence", "top_rule", "connections_peak", "usable_connections",
        "connection_usage_ratio", "active_sessions_avg", "pool_clients_waiting_peak", "pool_maxwait_s"}},
      {"advice.scale_out",
       Category::infrastructure,
       "the verdict is infrastructure or code while the database is measured idle (little database time, "
       "connection headroom): more instances add capacity",
       "Add application instances (or CPU to them); each opens its own pool, so keep the sum under "
       "max_connections.",
       {{"max_db_time_ms_per_s", 200, "ms/s", "database time per second of a database that is idle enough",
         kChokepoint},
        {"max_connection_usage", 0.5, "ratio", "peak connections / usable connections that leaves headroom",
         kChokepoint},
        {"max_database_share", 0.2, "ratio", "share of request time in the database (traces) that is low",
         kChokepoint}},
       {"verdict", "db_time_ms_per_s", "connections_peak", "usable_connections", "connection_headroom",
        "database_share"}},
      {"advice.connection_pooling",
       Category::database,
       "new connections are opened for every few transactions (no pooler): a PgBouncer configuration sized "
       "from the measured concurrency and clients; or an examined PgBouncer's live settings disagree with "
       "the measurements (session mode with idle servers, pools larger than the server allows, every "
       "connection logged)",
       "Put PgBouncer in front with the configuration given (pool_mode, pool sizes from the run).",
       {{"min_sessions_per_xact", 0.1, "sessions", "new sessions per transaction that show churn",
         kChokepoint},
        {"min_sessions_per_s", 5, "sessions/s", "new sessions per second worth pooling", kChokepoint},
        {"pool_headroom_ratio", 1.25, "ratio",
         "default_pool_size = measured concurrency (sampled active peak or statement time per second) x this",
         kPgBouncerDocs},
        {"reserve_pool_ratio", 0.25, "ratio", "reserve_pool_size = default_pool_size x this", kPgBouncerDocs},
        {"client_headroom_ratio", 2, "ratio", "max_client_conn = peak client connections x this",
         kPgBouncerDocs},
        {"min_max_client_conn", 100, "connections",
         "smallest max_client_conn suggested (PgBouncer's default)", kPgBouncerDocs},
        {"max_connections_share", 0.9, "ratio", "share of usable max_connections the pooler may take",
         kConnAlert},
        {"min_idle_servers", 1, "connections",
         "idle server connections on average that make session mode wasteful", kPgBouncerDocs}},
       {"sessions_per_s",
        "sessions_per_xact",
        "connect_ms",
        "active_sessions_peak",
        "active_sessions_p95",
        "db_time_ms_per_s",
        "pool_demand_sessions",
        "connections_peak",
        "usable_connections",
        "pool_mode",
        "default_pool_size",
        "reserve_pool_size",
        "max_client_conn",
        "max_db_connections",
        "max_connections_headroom",
        "session_features",
        "idle_servers_avg",
        "pool_size_total",
        "log_connections",
        "clients_waiting_peak",
        "review"}},
      {"advice.cache",
       Category::database,
       "hot read statements read tables that are rarely written (writes per read over the window from "
       "pg_stat_user_tables): the database time a cache would save, a TTL bound from the write interval, "
       "the layer (in-process for small sets, Redis for shared ones; an examined Redis's hit ratio and "
       "evictions enter the estimate); or traces repeat the same read within a request",
       "Cache the results (cache-aside) with the TTL bound given, invalidated on write.",
       {{"max_writes_per_read", 0.01, "ratio", "row writes per table read of a rarely written table",
         kChokepoint},
        {"min_db_time_share", 0.05, "ratio", "share of database time the cacheable reads must take",
         kChokepoint},
        {"min_calls_per_s", 10, "calls/s", "reads per second worth caching", kChokepoint},
        {"max_in_process_bytes", 67108864, "bytes",
         "tables up to this size fit an in-process cache on each instance", kChokepoint},
        {"min_repeats_per_request", 2, "calls",
         "the same read this many times in one request (traces) is cacheable per request", kChokepoint}},
       {"tables", "queries", "read_calls", "read_calls_per_s", "read_ms", "db_time_share", "writes",
        "writes_per_read", "write_interval_s", "ttl_bound_s", "table_bytes", "layer", "expected_hit_ratio",
        "redis_hit_ratio", "redis_evicted_keys", "repeats_per_request", "requests", "route"}},
      {"advice.read_replicas",
       Category::database,
       "reads dominate database time (statement type from pg_stat_statements): the share replicas could "
       "take; never when writes dominate. CQRS is named when heavy aggregate reads hit write-hot tables",
       "Add a streaming replica and route read-only transactions to it (read-after-write reads stay on the "
       "primary).",
       {{"min_read_to_write_ratio", 10, "ratio", "read time / write time that makes a workload read-mostly",
         kIssue},
        {"min_db_time_ms_per_s", 100, "ms/s", "database time per second busy enough to need replicas",
         kChokepoint},
        {"cqrs_min_writes_per_read", 0.1, "ratio", "row writes per read of a write-hot table (for CQRS)",
         kChokepoint},
        {"cqrs_min_read_share", 0.2, "ratio", "share of read time in aggregates over write-hot tables",
         kChokepoint}},
       {"read_ms", "write_ms", "other_ms", "read_share", "read_to_write_ratio", "db_time_ms_per_s",
        "top_reads", "cqrs_tables", "cqrs_read_share"}},
      {"advice.partitioning",
       Category::database,
       "a large, append-mostly table (inserts >> updates) has a time column that hot statements filter by "
       "range (and purges delete by): range partitioning by it, the share of rows a query would prune, the "
       "purge as DROP/DETACH PARTITION",
       "Range-partition the table by its time column; purge by detaching and dropping old partitions.",
       {{"min_table_rows", 10000000, "rows", "rows of a table worth partitioning", kPgDocsPartitioning},
        {"min_table_bytes", 8589934592, "bytes", "size of a table worth partitioning", kPgDocsPartitioning},
        {"min_insert_to_update_ratio", 10, "ratio", "inserts per update of an append-mostly table",
         kChokepoint},
        {"min_range_read_calls", 10, "calls", "range reads on the time column in the window", kChokepoint}},
       {"table", "rows", "size_bytes", "inserts", "updates", "deletes", "range_column", "range_query",
        "range_read_calls", "range_read_ms", "read_share_per_query", "pruned_share", "time_span_s",
        "partition_interval", "partitions", "purge_query", "purge_calls"}},
      {"advice.rate_limiting",
       Category::database,
       "a few clients (application_name, client_addr, usename in sampled pg_stat_activity) hold most of the "
       "active database sessions: per-client limits, with the measured distribution",
       "Limit the heavy client: a per-client rate or concurrency limit at the API or a per-role connection "
       "limit, so one client cannot take the database from the others.",
       {{"min_clients", 3, "clients", "distinct clients seen before a distribution means anything",
         kChokepoint},
        {"min_top_client_share", 0.6, "ratio", "share of active sessions held by the busiest client",
         kChokepoint},
        {"min_active_sessions", 1, "sessions", "active sessions on average (a busy database)", kChokepoint},
        {"target_client_share", 0.5, "ratio", "share of active sessions the limit leaves a client",
         kChokepoint}},
       {"clients", "top_client", "top_client_share", "active_sessions_avg", "client_active_avg",
        "suggested_concurrency_limit"}},
  };
  return catalog;
}

const RuleSpec* find_advice(std::string_view id) {
  for (const auto& a : advice_catalog())
    if (a.id == id) return &a;
  return nullptr;
}

}  // namespace cp
