#include "probes/postgres/rules.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "probes/postgres/index_advice.hpp"
#include "probes/postgres/index_rules.hpp"
#include "probes/postgres/levers.hpp"
#include "probes/postgres/session_rules.hpp"
#include "probes/postgres/sql_shape.hpp"
#include "probes/request_cost.hpp"
#include "probes/sources.hpp"
#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::pg {

const Statement* Workload::statement(int64_t queryid) const {
  for (const auto& st : snap->statements)
    if (st.queryid == queryid) return &st;
  return nullptr;
}

double Workload::counter_delta(const std::string& column) const {
  auto end = snap->database_end.find(column);
  if (end == snap->database_end.end()) return 0;
  auto start = snap->database_start.find(column);
  return start == snap->database_start.end() ? end->second : end->second - start->second;
}

Workload derive_workload(const Snapshot& snap) {
  Workload w;
  w.snap = &snap;
  w.component = "postgres:" + snap.database;
  for (const auto& st : snap.statements) {
    w.db_time_ms += st.total_exec_ms;
    w.calls += st.calls;
  }
  w.time_base_s = snap.window_s > 0 ? snap.window_s : snap.stats_age_s.value_or(0);
  // chokepoint's own statements each ran as a transaction of their own (autocommit): not the
  // application's transactions.
  w.xacts =
      std::max(0.0, w.counter_delta("xact_commit") + w.counter_delta("xact_rollback") - snap.self_calls);
  return w;
}

std::vector<std::string> collection_notes(const Workload& w) {
  const Snapshot& s = *w.snap;
  std::vector<std::string> notes = s.notes;
  if (s.pgss_dealloc > 0)
    notes.push_back(fmt::format(
        "pg_stat_statements evicted {:.0f} entries {} (pg_stat_statements.max = {:.0f}): rare statements are "
        "missing from these statistics; raise pg_stat_statements.max",
        s.pgss_dealloc, s.window_s > 0 ? "during the window" : "since its last reset", s.pgss_max));
  if (s.window_s <= 0 && s.stats_age_s && *s.stats_age_s < 3600)
    notes.push_back(
        fmt::format("cumulative statistics cover only the last {:.0f} s (pg_stat_statements was reset "
                    "then): judge them with care or use a sampling window",
                    *s.stats_age_s));
  if (!s.pgss_all_visible)
    notes.push_back(
        "this role sees only its own statements' text: grant it pg_read_all_stats (or pg_monitor)");
  if (!s.hypopg)
    notes.push_back(
        "HypoPG is not installed in this database: index suggestions are not checked with a "
        "hypothetical index (CREATE EXTENSION hypopg)");
  if (s.statements.empty())
    notes.push_back(s.window_s > 0
                        ? "no statement ran in this database during the window: was the load running?"
                        : "pg_stat_statements holds no statement for this database");
  size_t failed = 0;
  std::string first_error;
  for (const auto& plan : s.plans)
    if (!plan.error.empty() && failed++ == 0) first_error = plan.error;
  if (failed)
    notes.push_back(fmt::format("{} of {} top statements could not be planned (first: {})", failed,
                                s.plans.size(), first_error));
  return notes;
}

std::vector<Metric> workload_metrics(const Workload& w, const std::string& target) {
  std::map<std::string, std::string> labels = {{"target", target}, {"database", w.snap->database}};
  std::vector<Metric> m;
  m.push_back({"pg.statements", static_cast<double>(w.snap->statements.size()), "statements", labels});
  m.push_back({"pg.db_time_ms", round_to(w.db_time_ms, 3), "ms", labels});
  if (w.time_base_s > 0) {
    m.push_back({"pg.db_time_ms_per_s", round_to(w.per_s(w.db_time_ms), 3), "ms/s", labels});
    m.push_back({"pg.calls_per_s", round_to(w.per_s(w.calls), 2), "calls/s", labels});
    m.push_back({"pg.xact_per_s", round_to(w.per_s(w.xacts), 2), "xact/s", labels});
  }
  // chokepoint's own cost on the server: its statements during the window.
  m.push_back({"pg.chokepoint_statements", w.snap->self_calls, "calls", labels});
  m.push_back({"pg.chokepoint_server_ms", round_to(w.snap->self_exec_ms, 3), "ms", labels});
  m.push_back({"pg.activity_samples", static_cast<double>(w.snap->activity.size()), "samples", labels});
  double hit = w.counter_delta("blks_hit"), read = w.counter_delta("blks_read");
  if (hit + read > 0) m.push_back({"pg.cache_hit_ratio", round_to(hit / (hit + read), 4), "ratio", labels});
  return m;
}

namespace {

// What the rules share while they run in the table's order: the statements a finding already
// explains (a missing index, lock waits), which db.slow_query then leaves out.
struct Judging {
  const Workload& w;
  std::set<int64_t> explained;
};

template <auto Rule>
std::vector<Finding> on_workload(Judging& j, const RuleParams& p) {
  return Rule(j.w, p);
}

std::vector<Finding> judge_missing_index(Judging& j, const RuleParams& p) {
  auto found = missing_index(j.w, p);
  for (const auto& f : found)
    for (const auto& id : f.evidence["queryids"]) j.explained.insert(id.get<int64_t>());
  return found;
}

// A statement whose time is lock waiting is explained by the lock finding, not slow by itself.
std::vector<Finding> judge_lock_contention(Judging& j, const RuleParams& p) {
  auto locks = lock_contention(j.w, p);
  for (const auto& f : locks) {
    auto waiting = sql_fingerprint(f.evidence["waiting_query"].get<std::string>());
    for (const auto& st : j.w.snap->statements)
      if (waiting && sql_fingerprint(st.query) == waiting) j.explained.insert(st.queryid);
  }
  return locks;
}

std::vector<Finding> judge_slow_query(Judging& j, const RuleParams& p) {
  return slow_query(j.w, p, j.explained);
}

// The PostgreSQL rules: declared here (db.n_plus_one and db.slow_query are judged from traces too,
// db.pool_saturation from PgBouncer), judged in this order.
const std::vector<Rule<Judging>>& rule_table() {
  static const std::vector<Rule<Judging>> table = {
      {{"db.missing_index",
        Category::database,
        "a hot query's plan scans a large table (partitions summed) sequentially, and an index on its "
        "filter, join or sort columns (equality first, then range or sort) would cut its estimated cost by "
        "at least half (measured with HypoPG hypothetical indexes when installed; otherwise a filter "
        "returning <= max_selectivity of the rows); every threshold is inclusive",
        "Create the suggested index with CREATE INDEX CONCURRENTLY (no write lock), then re-run chokepoint.",
        {
            {"min_table_rows", 10000, "rows", "smallest table worth an index suggestion",
             sources::kChokepoint},
            {"max_selectivity", 0.1, "ratio", "estimated rows returned / table rows for a selective filter",
             sources::kChokepoint},
            {"min_cost_savings_ratio", 0.5, "ratio", "estimated cost must fall by at least this share",
             sources::kDexter},
            {"min_db_time_share", 0.01, "ratio", "share of database time that makes a query hot",
             sources::kChokepoint},
            {"high_db_time_share", 0.2, "ratio", "share of database time from which the finding is high",
             sources::kChokepoint},
            {"critical_db_time_share", 0.5, "ratio", "share of database time from which it is critical",
             sources::kChokepoint},
            {"near_tie_ratio", 0.05, "ratio",
             "hypothetical indexes within this share of the cheapest are a tie: the narrowest wins",
             sources::kChokepoint},
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
       judge_missing_index},
      {{"db.lock_contention",
        Category::database,
        "sessions wait on heavyweight locks (pg_stat_activity wait_event_type = Lock) through the window; "
        "the relation, the waiting and the blocking statements are named",
        "Shorten the transactions that hold the locks (no slow work or external calls between the UPDATE and "
        "COMMIT), touch hot rows last, use SELECT … FOR UPDATE SKIP LOCKED for queues, batch counter "
        "updates.",
        {
            {"min_avg_waiting_sessions", 0.5, "sessions",
             "sessions waiting on a lock, averaged over the samples", sources::kChokepoint},
            {"min_waiting_samples_share", 0.1, "ratio", "share of samples with a lock wait",
             sources::kChokepoint},
            {"high_waiting_share", 0.3, "ratio", "share of active sessions waiting from which it is high",
             sources::kChokepoint},
            {"critical_waiting_share", 0.8, "ratio",
             "share of active sessions waiting from which it is critical", sources::kChokepoint},
        },
        {"relation", "waiting_query", "blocking_query", "blocking_state", "lock_wait_event",
         "avg_waiting_sessions", "max_waiting_sessions", "waiting_sessions", "max_wait_s",
         "samples_with_waits", "samples", "waiting_share_of_active"}},
       judge_lock_contention},
      {{"db.slow_query",
        Category::database,
        "a query dominates database time (share of all statement time in the window) or is slow per call "
        "(mean >= 20 ms, over >= 100 calls in cumulative statistics, or in a window once its execution "
        "takes >= 200 ms per second of it); the same grading for pg_stat_statements and for traces",
        "EXPLAIN (ANALYZE, BUFFERS) the query on a copy of production data and fix the plan: an index, a "
        "rewrite, fewer rows, or caching its result.",
        {
            {"min_mean_ms", 20, "ms", "mean execution time of a slow query", sources::kPgHero},
            {"min_calls", 100, "calls",
             "calls needed before the mean counts, in one snapshot of cumulative statistics (all-time "
             "counts)",
             sources::kPgHero, WindowScope::cumulative},
            {"min_busy_ms_per_s", 200, "ms/s",
             "in a window: the statement's execution time per second of it (a time share of one "
             "connection) needed before the mean counts; one client with 200 ms calls reaches it as ten "
             "with 20 ms calls do",
             sources::kPgHeroPerWindow, WindowScope::window},
            {"dominant_db_time_share", 0.5, "ratio", "share of database time that dominates",
             sources::kChokepoint},
            {"min_db_time_ms_per_s", 50, "ms/s", "database busy enough for a share to matter",
             sources::kChokepoint},
            {"high_timeouts", 1, "timeouts",
             "callers that gave up on the statement (traces) from which it is high", sources::kChokepoint},
        },
        {"query", "queryid", "calls", "mean_ms", "total_ms", "db_time_share", "rows_per_call", "calls_per_s",
         "route", "service", "p95_ms", "datastore", "timeouts_consumed", "busy_ms_per_s", "window_s",
         "requests"}},
       judge_slow_query},

      {{"db.n_plus_one",
        Category::database,
        "the same single-row lookup repeats many times per transaction (statistics) or within one request, "
        "serial or concurrent, with different or unknown parameters (traces); with statistics, a parent "
        "query "
        "whose calls x rows per call matches the lookup's calls is named",
        "Fetch the rows in one query (JOIN, WHERE id = ANY($1), or the ORM's eager loading: "
        "includes/prefetch_related/JOIN FETCH) instead of one query per row.",
        with_request_cost(
            {
                {"min_calls_per_parent", 5, "calls", "repetitions per transaction / parent call / request",
                 sources::kSentryN1},
                {"max_rows_per_call", 1.5, "rows", "rows per call of a single-row lookup",
                 sources::kChokepoint},
                {"min_calls", 100, "calls",
                 "calls before statistics count, in one snapshot of cumulative statistics",
                 sources::kChokepoint, WindowScope::cumulative},
                {"min_calls_per_s", 10, "calls/s",
                 "in a window: calls per second of it before statistics count (100 calls over the default "
                 "10 s window)",
                 sources::kChokepoint, WindowScope::window},
                {"parent_match_tolerance", 0.25, "ratio",
                 "relative difference allowed between parent rows and child calls", sources::kChokepoint},
                {"high_calls_per_parent_factor", 2, "x",
                 "repetitions / min_calls_per_parent from which it is high (statistics)",
                 sources::kChokepoint},
            },
            {50, sources::kSentryN1, 0.2, 20}),
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
         "code_function",
         "wall_ms_per_request",
         "concurrency",
         "distinct_parameters"}},
       on_workload<n_plus_one>},
      {{"db.duplicate_index",
        Category::database,
        "a btree index's key columns are the leading columns (same order and directions) of another index on "
        "the same table (neither partial, neither backing a constraint): every write maintains both",
        "Drop the redundant index with DROP INDEX CONCURRENTLY (the longer index serves its queries).",
        {
            {"min_index_bytes", 0, "bytes", "smallest redundant index worth reporting",
             sources::kPgHeroDuplicates},
        },
        {"index", "table", "schema", "columns", "covering_index", "covering_columns", "index_size_bytes",
         "index_scans", "stats_age_s", "table_writes_per_s"},
        Severity::low},
       on_workload<duplicate_index>},
      {{"db.unused_index",
        Category::database,
        "an index (not backing a constraint) was never scanned since the statistics reset while its table "
        "takes writes: it costs every insert, delete and non-HOT update and serves nothing",
        "Drop it with DROP INDEX CONCURRENTLY once replicas and periodic jobs are known not to use it.",
        {
            {"max_index_scans", 0, "scans", "index scans since the statistics reset of an unused index",
             sources::kPgHeroUnused},
            {"min_table_writes_per_s", 1, "rows/s",
             "rows written per second (n_tup_ins + n_tup_upd + n_tup_del) that make a table write-heavy",
             sources::kChokepoint},
        },
        {"index", "table", "schema", "columns", "index_size_bytes", "index_scans", "stats_age_s",
         "table_writes", "table_writes_per_s"},
        Severity::low},
       on_workload<unused_index>},
      {{"db.low_cache_hit",
        Category::database,
        "the shared-buffer hit ratio is below 0.99 on a busy database",
        "Give PostgreSQL more shared_buffers (about 25 % of RAM) or more RAM, or cut the working set "
        "(indexes instead of scans, archive cold rows).",
        {
            {"min_hit_ratio", 0.99, "ratio", "shared-buffer hit ratio of a healthy OLTP database",
             sources::kPgHero},
            {"min_blocks_per_s", 1000, "blocks/s", "block accesses per second of a busy database",
             sources::kChokepoint},
            {"high_below_hit_ratio", 0.9, "ratio", "hit ratio below which it is high", sources::kChokepoint},
            {"medium_below_hit_ratio", 0.95, "ratio", "hit ratio below which it is medium (else low)",
             sources::kChokepoint},
        },
        {"database", "hit_ratio", "blks_hit", "blks_read", "blocks_per_s", "shared_buffers_bytes"}},
       on_workload<low_cache_hit>},
      {{"db.pool_saturation",
        Category::database,
        "PostgreSQL connections near max_connections, or PgBouncer clients waiting for a server connection "
        "(cl_waiting, maxwait); the pool (database/user) is named",
        "Give the pool the connections its demand needs (PgBouncer pool_size, within max_connections and the "
        "server's cores), or put a transaction-mode pooler in front of PostgreSQL instead of raising "
        "max_connections.",
        {
            {"max_connection_usage", 0.9, "ratio", "peak client connections / usable max_connections",
             sources::kConnAlert},
            {"min_avg_clients_waiting", 0.5, "clients",
             "PgBouncer clients waiting, averaged over the samples", sources::kChokepoint},
            {"max_wait_ms", 1000, "ms", "PgBouncer maxwait (oldest waiting client) that is too long",
             sources::kPgBouncerDocs},
            {"critical_connection_usage", 1, "ratio",
             "peak connections / usable max_connections from which it is critical", sources::kChokepoint},
            {"high_wait_to_xact_ratio", 1, "ratio",
             "PgBouncer wait per transaction / transaction time from which it is high", sources::kChokepoint},
            {"critical_wait_to_xact_ratio", 5, "ratio",
             "PgBouncer wait per transaction / transaction time from which it is critical",
             sources::kChokepoint},
        },
        {"database", "user", "pool", "pool_mode", "pool_size", "avg_clients_waiting", "max_clients_waiting",
         "avg_clients_active", "avg_servers_active", "maxwait_ms", "wait_per_xact_ms", "avg_xact_ms",
         "avg_query_ms", "queries_per_xact", "connections_peak", "connections_avg", "max_connections",
         "usable_connections", "connection_usage"}},
       on_workload<connection_saturation>},
      {{"db.no_connection_pooling",
        Category::database,
        "new connections are opened for every few transactions (pg_stat_database sessions per transaction); "
        "the connect + authentication time is measured and compared with the transactions a connection runs",
        "Put PgBouncer in transaction mode in front of PostgreSQL (the finding carries a configuration sized "
        "for this server), or use the driver's connection pool.",
        {
            {"min_sessions_per_xact", 0.1, "sessions",
             "new sessions per transaction (autocommit statements are transactions of their own)",
             sources::kChokepoint},
            {"min_sessions_per_s", 5, "sessions/s", "new sessions per second worth pooling",
             sources::kChokepoint},
            {"high_connect_share", 0.5, "ratio",
             "connect time / (connect + the connection's transactions) from which it is high",
             sources::kChokepoint},
        },
        {"database", "sessions", "xacts", "sessions_per_xact", "xacts_per_session", "sessions_per_s",
         "connect_ms", "tcp_connect_ms", "tls", "mean_xact_ms", "connect_share", "peak_active_sessions",
         "max_connections"}},
       on_workload<no_connection_pooling>},
      {{"db.idle_in_transaction",
        Category::database,
        "sessions sit idle inside an open transaction (state 'idle in transaction') for longer than "
        "min_idle_s, holding their locks and snapshot",
        "Commit or roll back before doing slow work in the application (HTTP calls, rendering); set "
        "idle_in_transaction_session_timeout as a safety net.",
        {
            {"min_idle_s", 1, "s", "time idle inside a transaction that counts", sources::kChokepoint},
            {"high_idle_s", 60, "s", "idle time from which it is high even without blocking anyone",
             sources::kChokepoint},
        },
        {"database", "sessions", "avg_sessions", "max_idle_s", "max_xact_age_s", "last_query",
         "application_name", "blocks_others"}},
       on_workload<idle_in_transaction>},
  };
  return table;
}

}  // namespace

RuleDeclarations rule_declarations() {
  return declarations(rule_table(), {{"pg.db_time_ms_per_s", +1, 20}, {"pg.cache_hit_ratio", -1, 0.005}});
}

Judgement judge(const Snapshot& snap, const Target& target, const Settings& settings) {
  Judgement j;
  Workload w = derive_workload(snap);
  Judging judging{w, {}};
  judge_rules(j, settings, rule_table(), judging);
  j.notes = collection_notes(w);
  j.metrics = workload_metrics(w, target.name);
  j.levers.postgres.push_back(postgres_load(w, target.name));
  // The server's time per statement in the window, beside what client spans measured of the same
  // statements (src/core/reconcile.cpp); cumulative statistics cover another period: not compared.
  if (snap.window_s > 0)
    for (const auto& st : snap.statements)
      j.crosscheck.statements.push_back({"postgresql", st.query, st.calls, st.total_exec_ms, true, {}});
  return j;
}

}  // namespace cp::pg
