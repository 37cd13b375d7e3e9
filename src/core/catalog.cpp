#include "core/catalog.hpp"

namespace cp {

namespace {
constexpr std::string_view kPgHero = "PgHero (ankane/pghero) defaults";
constexpr std::string_view kDexter = "Dexter (ankane/dexter) --min-cost-savings-pct default";
constexpr std::string_view kSentryN1 =
    "Sentry N+1 Queries detector (count >= 5 repeated spans, total >= 50 ms)";
constexpr std::string_view kPgHeroDuplicates =
    "PgHero duplicate_indexes (an index whose columns lead another's on the same table)";
constexpr std::string_view kPgHeroUnused = "PgHero unused_indexes (idx_scan = 0 since the statistics reset)";
constexpr std::string_view kChokepoint = "chokepoint default (documented in the rule's README)";
constexpr std::string_view kRelative =
    "chokepoint default: a share of the end-user request's critical path (issue #13: 30 statements taking "
    "84 % of a 50 ms request are an N+1 although they total under 50 ms)";
constexpr std::string_view kSentryApi = "Sentry N+1 API Calls detector (>= 10 calls, total >= 300 ms)";
constexpr std::string_view kSentryHttp =
    "Sentry Consecutive HTTP detector (>= 3 sequential calls, <= 500 ms apart; its 2000 ms saving targets "
    "frontends)";
constexpr std::string_view kMixin =
    "kubernetes-mixin CPUThrottlingHigh alert (> 25 % of CFS periods throttled)";
constexpr std::string_view kMemoryDoctor =
    "Redis MEMORY DOCTOR (fragmentation ratio > 1.4 with > 10 MB fragmented; instances under 5 MB ignored)";
constexpr std::string_view kPgBouncerDocs =
    "PgBouncer docs, SHOW POOLS: maxwait \"if it goes high, increase pool_size\"";
constexpr std::string_view kConnAlert =
    "common alerting practice (postgres_exporter mixin): connections above 90 % of max_connections";
}  // namespace

const std::vector<RuleSpec>& rule_catalog() {
  static const std::vector<RuleSpec> catalog = {
      {"db.missing_index",
       Category::database,
       "a hot query's plan scans a large table (partitions summed) sequentially, and an index on its filter, "
       "join or sort columns (equality first, then range or sort) would cut its estimated cost by at least "
       "half (measured with HypoPG hypothetical indexes when installed; otherwise a filter returning <= "
       "max_selectivity of the rows); every threshold is inclusive",
       "Create the suggested index with CREATE INDEX CONCURRENTLY (no write lock), then re-run chokepoint.",
       {
           {"min_table_rows", 10000, "rows", "smallest table worth an index suggestion", kChokepoint},
           {"max_selectivity", 0.1, "ratio", "estimated rows returned / table rows for a selective filter",
            kChokepoint},
           {"min_cost_savings_ratio", 0.5, "ratio", "estimated cost must fall by at least this share",
            kDexter},
           {"min_db_time_share", 0.01, "ratio", "share of database time that makes a query hot", kChokepoint},
           {"high_db_time_share", 0.2, "ratio", "share of database time from which the finding is high",
            kChokepoint},
           {"critical_db_time_share", 0.5, "ratio", "share of database time from which it is critical",
            kChokepoint},
           {"near_tie_ratio", 0.05, "ratio",
            "hypothetical indexes within this share of the cheapest are a tie: the narrowest wins",
            kChokepoint},
       },
       {"table",
        "schema",
        "columns",
        "desc_columns",
        "index_source",
        "query",
        "queryid",
        "queryids",
        "statements",
        "calls",
        "mean_ms",
        "total_ms",
        "db_time_share",
        "table_rows",
        "estimated_rows",
        "selectivity",
        "cost_before",
        "cost_after",
        "cost_source",
        "plan_node",
        "partitioned",
        "partitions",
        "read_gain_ms_per_s",
        "table_writes",
        "table_writes_per_s",
        "table_hot_update_ratio",
        "write_heavy"}},
      {"db.duplicate_index",
       Category::database,
       "a btree index's key columns are the leading columns (same order and directions) of another index on "
       "the same table (neither partial, neither backing a constraint): every write maintains both",
       "Drop the redundant index with DROP INDEX CONCURRENTLY (the longer index serves its queries).",
       {
           {"min_index_bytes", 0, "bytes", "smallest redundant index worth reporting", kPgHeroDuplicates},
       },
       {"index", "table", "schema", "columns", "covering_index", "covering_columns", "index_size_bytes",
        "index_scans", "stats_age_s", "table_writes_per_s"}},
      {"db.unused_index",
       Category::database,
       "an index (not backing a constraint) was never scanned since the statistics reset while its table "
       "takes writes: it costs every insert, delete and non-HOT update and serves nothing",
       "Drop it with DROP INDEX CONCURRENTLY once replicas and periodic jobs are known not to use it.",
       {
           {"max_index_scans", 0, "scans", "index scans since the statistics reset of an unused index",
            kPgHeroUnused},
           {"min_table_writes_per_s", 1, "rows/s",
            "rows written per second (n_tup_ins + n_tup_upd + n_tup_del) that make a table write-heavy",
            kChokepoint},
       },
       {"index", "table", "schema", "columns", "index_size_bytes", "index_scans", "stats_age_s",
        "table_writes", "table_writes_per_s"}},
      {"db.slow_query",
       Category::database,
       "a query dominates database time (share of all statement time in the window) or is slow per call "
       "(mean >= 20 ms over >= 100 calls)",
       "EXPLAIN (ANALYZE, BUFFERS) the query on a copy of production data and fix the plan: an index, a "
       "rewrite, fewer rows, or caching its result.",
       {
           {"min_mean_ms", 20, "ms", "mean execution time of a slow query", kPgHero},
           {"min_calls", 100, "calls", "calls needed before the mean counts", kPgHero},
           {"dominant_db_time_share", 0.5, "ratio", "share of database time that dominates", kChokepoint},
           {"min_db_time_ms_per_s", 50, "ms/s", "database busy enough for a share to matter", kChokepoint},
       },
       {"query", "queryid", "calls", "mean_ms", "total_ms", "db_time_share", "rows_per_call", "calls_per_s",
        "route", "service", "p95_ms", "datastore", "timeouts_consumed"}},
      {"db.n_plus_one",
       Category::database,
       "the same single-row lookup repeats many times per transaction (statistics) or under one parent "
       "span (traces); with statistics, a parent query whose calls x rows per call matches the lookup's "
       "calls is named",
       "Fetch the rows in one query (JOIN, WHERE id = ANY($1), or the ORM's eager loading: "
       "includes/prefetch_related/JOIN FETCH) instead of one query per row.",
       {
           {"min_calls_per_parent", 5, "calls", "repetitions per transaction / parent call", kSentryN1},
           {"max_rows_per_call", 1.5, "rows", "rows per call of a single-row lookup", kChokepoint},
           {"min_calls", 100, "calls", "calls in the window before statistics count", kChokepoint},
           {"parent_match_tolerance", 0.25, "ratio",
            "relative difference allowed between parent rows and child calls", kChokepoint},
           {"min_total_ms", 50, "ms",
            "critical-path time the repetitions cost per request (traces; serial repetitions only)",
            kSentryN1},
           {"min_request_share", 0.2, "ratio",
            "or this share of the request's critical path (traces), above min_share_ms", kRelative},
           {"min_share_ms", 5, "ms", "floor of the relative threshold (traces)", kChokepoint},
           {"high_request_share", 0.2, "ratio", "share of the request from which it is high (traces)",
            kChokepoint},
           {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical (traces)",
            kChokepoint},
       },
       {"query",
        "queryid",
        "calls",
        "rows_per_call",
        "calls_per_xact",
        "parent_query",
        "parent_queryid",
        "parent_calls",
        "parent_rows_per_call",
        "calls_per_parent",
        "mean_ms",
        "total_ms",
        "route",
        "service",
        "repetitions_per_request",
        "requests",
        "time_per_request_ms",
        "entry_service",
        "datastore",
        "parent",
        "shape",
        "request_share",
        "code_filepath",
        "code_lineno",
        "code_function"}},
      {"db.repeated_identical_query",
       Category::database,
       "the same statement with the same parameters, or the same cache key, runs more than once within one "
       "request (traces): the request could keep the first answer",
       "Keep the answer for the request (memoize the lookup, a request-scoped cache such as DataLoader, or "
       "pass the loaded object down) instead of asking the database or cache again.",
       {
           {"min_repeats", 2, "calls", "identical calls in one request", kChokepoint},
           {"min_total_ms", 50, "ms", "critical-path time of the repeats (all but the first) per request",
            kSentryN1},
           {"min_request_share", 0.1, "ratio",
            "or this share of the request's critical path, above min_share_ms", kRelative},
           {"min_share_ms", 2, "ms", "floor of the relative threshold", kChokepoint},
           {"high_request_share", 0.2, "ratio", "share of the request from which it is high", kChokepoint},
           {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical",
            kChokepoint},
       },
       {"query", "route", "service", "entry_service", "datastore", "repetitions_per_request", "requests",
        "time_per_request_ms", "saved_per_request_ms", "request_share", "code_filepath", "code_lineno",
        "code_function"}},
      {"db.low_cache_hit",
       Category::database,
       "the shared-buffer hit ratio is below 0.99 on a busy database",
       "Give PostgreSQL more shared_buffers (about 25 % of RAM) or more RAM, or cut the working set "
       "(indexes instead of scans, archive cold rows).",
       {
           {"min_hit_ratio", 0.99, "ratio", "shared-buffer hit ratio of a healthy OLTP database", kPgHero},
           {"min_blocks_per_s", 1000, "blocks/s", "block accesses per second of a busy database",
            kChokepoint},
       },
       {"database", "hit_ratio", "blks_hit", "blks_read", "blocks_per_s", "shared_buffers_bytes"}},
      {"db.lock_contention",
       Category::database,
       "sessions wait on heavyweight locks (pg_stat_activity wait_event_type = Lock) through the window; the "
       "relation, the waiting and the blocking statements are named",
       "Shorten the transactions that hold the locks (no slow work or external calls between the UPDATE and "
       "COMMIT), touch hot rows last, use SELECT … FOR UPDATE SKIP LOCKED for queues, batch counter updates.",
       {
           {"min_avg_waiting_sessions", 0.5, "sessions",
            "sessions waiting on a lock, averaged over the samples", kChokepoint},
           {"min_waiting_samples_share", 0.1, "ratio", "share of samples with a lock wait", kChokepoint},
           {"high_waiting_share", 0.3, "ratio", "share of active sessions waiting from which it is high",
            kChokepoint},
       },
       {"relation", "waiting_query", "blocking_query", "blocking_state", "lock_wait_event",
        "avg_waiting_sessions", "max_waiting_sessions", "waiting_sessions", "max_wait_s",
        "samples_with_waits", "samples", "waiting_share_of_active"}},
      {"db.pool_saturation",
       Category::database,
       "PostgreSQL connections near max_connections, or PgBouncer clients waiting for a server connection "
       "(cl_waiting, maxwait); the pool (database/user) is named",
       "Give the pool the connections its demand needs (PgBouncer pool_size, within max_connections and the "
       "server's cores), or put a transaction-mode pooler in front of PostgreSQL instead of raising "
       "max_connections.",
       {
           {"max_connection_usage", 0.9, "ratio", "peak client connections / usable max_connections",
            kConnAlert},
           {"min_avg_clients_waiting", 0.5, "clients", "PgBouncer clients waiting, averaged over the samples",
            kChokepoint},
           {"max_wait_ms", 1000, "ms", "PgBouncer maxwait (oldest waiting client) that is too long",
            kPgBouncerDocs},
       },
       {"database", "user", "pool", "pool_mode", "pool_size", "avg_clients_waiting", "max_clients_waiting",
        "avg_clients_active", "avg_servers_active", "maxwait_ms", "wait_per_xact_ms", "avg_xact_ms",
        "avg_query_ms", "queries_per_xact", "connections_peak", "connections_avg", "max_connections",
        "usable_connections", "connection_usage"}},
      {"db.no_connection_pooling",
       Category::database,
       "new connections are opened for every few transactions (pg_stat_database sessions per transaction); "
       "the "
       "connect + authentication time is measured and compared with the transactions a connection runs",
       "Put PgBouncer in transaction mode in front of PostgreSQL (the finding carries a configuration sized "
       "for this server), or use the driver's connection pool.",
       {
           {"min_sessions_per_xact", 0.1, "sessions",
            "new sessions per transaction (autocommit statements are transactions of their own)",
            kChokepoint},
           {"min_sessions_per_s", 5, "sessions/s", "new sessions per second worth pooling", kChokepoint},
           {"high_connect_share", 0.5, "ratio",
            "connect time / (connect + the connection's transactions) from which it is high", kChokepoint},
       },
       {"database", "sessions", "xacts", "sessions_per_xact", "xacts_per_session", "sessions_per_s",
        "connect_ms", "tcp_connect_ms", "tls", "mean_xact_ms", "connect_share", "peak_active_sessions",
        "max_connections"}},
      {"db.idle_in_transaction",
       Category::database,
       "sessions sit idle inside an open transaction (state 'idle in transaction') for longer than "
       "min_idle_s, "
       "holding their locks and snapshot",
       "Commit or roll back before doing slow work in the application (HTTP calls, rendering); set "
       "idle_in_transaction_session_timeout as a safety net.",
       {
           {"min_idle_s", 1, "s", "time idle inside a transaction that counts", kChokepoint},
           {"high_idle_s", 60, "s", "idle time from which it is high even without blocking anyone",
            kChokepoint},
       },
       {"database", "sessions", "avg_sessions", "max_idle_s", "max_xact_age_s", "last_query",
        "application_name", "blocks_others"}},
      {"cache.low_hit_ratio",
       Category::database,
       "Redis misses dominate: keyspace hits / (hits + misses) over the window is low on a busy cache",
       "Find why keys miss (evicted before reuse, short TTLs, per-request keys, a cold cache after a deploy) "
       "and "
       "fix that; a cache that misses adds a round trip to every slow lookup.",
       {
           {"min_hit_ratio", 0.8, "ratio", "keyspace hit ratio of a useful cache", kChokepoint},
           {"min_lookups_per_s", 10, "lookups/s", "lookups per second of a busy cache", kChokepoint},
       },
       {"hit_ratio", "keyspace_hits", "keyspace_misses", "lookups_per_s", "evicted_keys", "maxmemory_bytes"}},
      {"cache.evictions",
       Category::database,
       "Redis evicts keys because it reached maxmemory (evicted_keys over the window)",
       "Give Redis more memory or store less; make sure the eviction policy fits the data (allkeys-lru for a "
       "pure "
       "cache, volatile-* when some keys must stay).",
       {
           {"min_evictions_per_s", 1, "keys/s", "evictions per second", kChokepoint},
       },
       {"evicted_keys", "evictions_per_s", "maxmemory_bytes", "maxmemory_policy", "used_memory_bytes"}},
      {"cache.slow_commands",
       Category::database,
       "commands appear in Redis's SLOWLOG during the window (slower than slowlog-log-slower-than); the "
       "command "
       "is named, never its arguments",
       "Replace O(N) commands in the request path (KEYS -> SCAN, big HGETALL/SMEMBERS/LRANGE -> paginate), "
       "split "
       "big keys; Redis runs one command at a time, so one slow command delays every client.",
       {
           {"min_entries", 1, "entries", "slow-log entries in the window",
            "Redis SLOWLOG (slowlog-log-slower-than)"},
           {"high_duration_us", 100000, "us", "duration from which a slow command is high", kChokepoint},
       },
       {"command", "calls", "max_ms", "total_ms"}},
      {"cache.clients_saturation",
       Category::database,
       "Redis connected clients near maxclients, or connections rejected",
       "Pool connections in the clients, close idle ones (timeout), raise maxclients together with the "
       "file-descriptor limit.",
       {
           {"max_clients_usage", 0.9, "ratio", "connected clients / maxclients", kConnAlert},
       },
       {"connected_clients", "maxclients", "clients_usage", "rejected_connections", "blocked_clients"}},
      {"cache.memory_fragmentation",
       Category::database,
       "Redis's resident memory is much larger than its data (mem_fragmentation_ratio), as MEMORY DOCTOR "
       "reports",
       "Enable active defragmentation (activedefrag yes) or restart the instance in a maintenance window.",
       {
           {"max_fragmentation_ratio", 1.4, "ratio", "used_memory_rss / used_memory", kMemoryDoctor},
           {"min_fragmentation_bytes", 10485760, "bytes", "RSS above the data", kMemoryDoctor},
           {"min_used_memory_bytes", 5242880, "bytes", "smaller instances are not judged", kMemoryDoctor},
       },
       {"mem_fragmentation_ratio", "used_memory_bytes", "used_memory_rss_bytes"}},
      {"net.connect_overhead",
       Category::network,
       "DNS, TCP and TLS set-up dominate calls to a dependency: fresh connections are much slower than "
       "reused "
       "ones and set-up is most of their time",
       "Reuse connections: keep-alive / a connection pool in the HTTP client (one client per process, not "
       "per "
       "request), HTTP/2; cache DNS; resume TLS sessions.",
       {
           {"min_setup_share", 0.5, "ratio", "DNS + TCP + TLS time / total time of a fresh call",
            kChokepoint},
           {"min_setup_ms", 20, "ms", "set-up time worth saving per call", kChokepoint},
       },
       {"url", "host", "dns_ms", "tcp_ms", "tls_ms", "setup_ms", "setup_share", "fresh_p50_ms",
        "reused_p50_ms", "calls"}},
      {"net.slow_external_call",
       Category::network,
       "an external dependency (host) is slow at p95 and takes a large share of the time of the requests "
       "that "
       "call it; only the slow dependency is named",
       "Take the call off the request path (cache the answer, call it asynchronously, prefetch), give it a "
       "tight "
       "timeout with a fallback, or ask its owner for a faster endpoint.",
       {
           {"min_p95_ms", 200, "ms", "p95 latency of a slow dependency", kChokepoint},
           {"min_request_share", 0.1, "ratio", "share of the calling requests' time spent waiting on it",
            kChokepoint},
           {"high_request_share", 0.3, "ratio", "share from which the finding is high", kChokepoint},
           {"critical_request_share", 0.6, "ratio", "share from which it is critical", kChokepoint},
       },
       {"host", "url", "calls", "p50_ms", "p95_ms", "p99_ms", "max_ms", "total_ms", "requests",
        "request_share", "error_rate", "source", "connect_ms", "ttfb_ms", "reused_p50_ms", "fresh_p50_ms",
        "path_ms"}},
      {"net.repeated_external_call",
       Category::network,
       "the same external call (method + URL template) repeats many times within one request: an N+1 over "
       "the "
       "network, or a missing cache",
       "Batch the calls (one request for all ids), cache the answer for the request or longer, or fetch it "
       "once "
       "and pass it down.",
       {
           {"min_repeats", 10, "calls", "repetitions of one call in one request", kSentryApi},
           {"min_total_ms", 300, "ms", "critical-path time the repetitions cost per request", kSentryApi},
           {"min_request_share", 0.2, "ratio",
            "or this share of the request's critical path, above min_share_ms", kRelative},
           {"min_share_ms", 20, "ms", "floor of the relative threshold", kChokepoint},
           {"high_request_share", 0.2, "ratio", "share of the request from which it is high", kChokepoint},
           {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical",
            kChokepoint},
       },
       {"call", "host", "route", "service", "repetitions_per_request", "requests", "time_per_request_ms",
        "parent", "entry_service", "shape", "concurrency", "request_share", "code_filepath", "code_lineno",
        "code_function"}},
      {"net.sequential_external_calls",
       Category::network,
       "independent external calls (different endpoints, none overlapping) run one after another in a "
       "request "
       "and could run concurrently; the time saved is estimated as their sum minus the longest",
       "Issue the independent calls concurrently (async/await gather, futures, a parallel HTTP client) and "
       "wait "
       "for all of them once.",
       {
           {"min_calls", 3, "calls", "calls in a sequence", kSentryHttp},
           {"min_saved_ms", 200, "ms", "time saved per request by running them concurrently", kChokepoint},
       },
       {"sequence", "route", "service", "calls", "requests", "time_per_request_ms", "saved_per_request_ms",
        "entry_service"}},
      {"net.capped_concurrency",
       Category::network,
       "calls to one dependency within a request overlap, but no more than a small constant number are in "
       "flight for most of their window (a worker pool or concurrency limit): the request waits for the "
       "rounds, not for one call (traces)",
       "Raise the concurrency limit if the dependency can take it, or batch the calls into one request for "
       "many items.",
       {
           {"min_calls", 4, "calls", "calls to the dependency in one request", kChokepoint},
           {"min_total_ms", 300, "ms", "critical-path time of the calls per request", kSentryApi},
           {"min_request_share", 0.2, "ratio",
            "or this share of the request's critical path, above min_share_ms", kRelative},
           {"min_share_ms", 20, "ms", "floor of the relative threshold", kChokepoint},
           {"high_request_share", 0.2, "ratio", "share of the request from which it is high", kChokepoint},
           {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical",
            kChokepoint},
       },
       {"host", "route", "service", "entry_service", "calls", "concurrency", "requests",
        "time_per_request_ms", "summed_ms_per_request", "request_share", "parent"}},
      {"net.external_errors",
       Category::network,
       "an external dependency answers with errors (5xx, connection errors) or timeouts",
       "Add a timeout, retries with backoff for idempotent calls and a circuit breaker with a fallback, so a "
       "failing dependency costs milliseconds, not the whole request.",
       {
           {"min_error_rate", 0.05, "ratio", "failed calls / calls", kChokepoint},
           {"min_calls", 10, "calls", "calls before a rate counts", kChokepoint},
       },
       {"host", "url", "calls", "errors", "error_rate", "timeouts", "server_errors", "connection_errors",
        "dns_errors", "source", "consumed_by"}},
      {"code.self_time_hotspot",
       Category::code,
       "a route's time is spent in the application's own code (span self-time: a span's duration minus its "
       "children's), not in its database, cache or external calls; the span holding it is named",
       "Profile that code path (a CPU profiler on the named span's function): look for O(n^2) loops, "
       "serialization of large payloads, regex or template work per item, synchronous I/O.",
       {
           {"min_code_share", 0.5, "ratio", "share of a route's attributed time in own code", kChokepoint},
           {"min_p95_ms", 100, "ms", "route p95 latency worth optimizing", kChokepoint},
           {"high_code_share", 0.7, "ratio", "share from which it is high", kChokepoint},
       },
       {"service", "route", "span", "span_self_ms_per_request", "span_share", "code_share", "p95_ms",
        "requests", "entry_service"}},
      {"infra.cpu_throttling",
       Category::infrastructure,
       "the cgroup's CFS quota throttles it: throttled periods / periods over the window above the threshold",
       "Raise (or remove) the CPU limit to above the usage it needs, or make the runtime match the quota: "
       "thread "
       "pools, GOMAXPROCS, -XX:ActiveProcessorCount, worker counts sized to the limit, not the host's cores.",
       {
           {"min_throttled_ratio", 0.25, "ratio", "throttled periods / periods", kMixin},
           {"critical_throttled_ratio", 0.5, "ratio", "ratio from which the finding is critical",
            kChokepoint},
       },
       {"cgroup", "throttled_ratio", "throttled_s_per_s", "limit_cores", "usage_cores", "nr_periods",
        "nr_throttled", "quota_us", "period_us", "suggested_limit_cores", "cgroup_version"}},
      {"infra.cpu_saturation",
       Category::infrastructure,
       "more runnable tasks than CPUs (procs_running), CPU pressure (PSI some avg10) or steal time is high",
       "Give the workload more CPUs (a bigger node, fewer neighbours), spread it over more nodes, or make it "
       "cheaper; with steal time, move to a less contended host.",
       {
           {"max_runnable_per_cpu", 1.5, "tasks", "average runnable tasks per CPU", kChokepoint},
           {"max_cpu_pressure", 20, "%", "PSI cpu some avg10: share of time some task waited for a CPU",
            kChokepoint},
           {"max_steal_ratio", 0.1, "ratio", "CPU time stolen by the hypervisor", kChokepoint},
       },
       {"scope", "runnable_per_cpu", "run_queue_avg", "run_queue_max", "cpus", "cpu_pressure_some_avg10",
        "steal_ratio", "busy_ratio", "iowait_ratio"}},
      {"infra.memory_pressure",
       Category::infrastructure,
       "memory pressure (PSI), OOM kills, swapping, or a cgroup near its memory limit",
       "Raise the memory limit or reduce the working set (caches, batch sizes); stop swapping (more RAM or "
       "vm.swappiness); find what the OOM killer chose in the kernel log.",
       {
           {"max_memory_pressure", 10, "%", "PSI memory some avg10", kChokepoint},
           {"max_swap_pages_per_s", 100, "pages/s", "pages swapped in + out per second", kChokepoint},
           {"max_limit_usage", 0.9, "ratio", "cgroup memory usage / limit", kChokepoint},
       },
       {"scope", "memory_pressure_some_avg10", "memory_pressure_full_avg10", "oom_kills", "swap_pages_per_s",
        "usage_bytes", "limit_bytes", "limit_usage"}},
      {"infra.network_drops",
       Category::infrastructure,
       "the kernel drops connections on full listen queues (ListenOverflows/ListenDrops) or retransmits many "
       "TCP "
       "segments",
       "Raise the listen backlog (net.core.somaxconn and the server's backlog) and accept faster (more "
       "acceptor "
       "threads); for retransmits, look at packet loss on the path (NIC errors, congested links, MTU).",
       {
           {"max_listen_drops", 0, "drops", "listen-queue overflows or drops in the window", kChokepoint},
           {"max_retransmit_ratio", 0.02, "ratio", "retransmitted / sent TCP segments", kChokepoint},
           {"min_segments", 1000, "segments", "segments sent before the ratio counts", kChokepoint},
       },
       {"listen_overflows", "listen_drops", "retransmitted_segments", "sent_segments", "retransmit_ratio"}},
      {"code.long_transactions",
       Category::code,
       "clients wait for pooled connections while the transactions holding them are much longer than their "
       "statements: the application keeps transactions open between queries",
       "Keep transactions to the statements that need them: do external calls, rendering and computation "
       "before BEGIN or after COMMIT; in ORMs, avoid transaction-per-request middleware around slow views.",
       {
           {"min_xact_to_query_ratio", 5, "ratio", "transaction time / time of its statements", kChokepoint},
           {"max_query_ms", 20, "ms", "mean statement time below which the database is not the slow part",
            kPgHero},
       },
       {"database", "user", "pool", "avg_xact_ms", "avg_query_ms", "queries_per_xact", "xact_to_query_ratio",
        "idle_share", "avg_clients_waiting", "wait_per_xact_ms"}},
  };
  return catalog;
}

const RuleSpec* find_rule(std::string_view id) {
  for (const auto& r : rule_catalog())
    if (r.id == id) return &r;
  return nullptr;
}

}  // namespace cp
