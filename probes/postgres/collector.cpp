#include "probes/postgres/collector.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include <libpq-fe.h>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "probes/postgres/index_advice.hpp"
#include "probes/postgres/sql_shape.hpp"
#include "util/conninfo.hpp"
#include "util/format.hpp"
#include "util/redact.hpp"
#include "util/sql.hpp"

namespace cp::pg {

namespace {

using Clock = std::chrono::steady_clock;

// Every statement chokepoint sends starts with this comment, so its own statements can be told
// apart in pg_stat_statements and left out of the diagnosis.
constexpr std::string_view kTag = "/* chokepoint */ ";

// A collection step that cannot go on, with the message the user will read.
struct CollectError {
  std::string message;
};

double num(const pqxx::field& f) {
  return f.is_null() ? 0.0 : f.as<double>();
}
std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str());
}

bool is_numeric_oid(pqxx::oid type) {
  switch (type) {
    case 20:
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
    case 1700:
      return true;
    default:
      return false;
  }
}

class Connection {
 public:
  Connection(const ConnInfo& info, const SessionLimits& limits) {
    try {
      conn_ = std::make_unique<pqxx::connection>(session_conninfo(info, limits, true));
    } catch (const pqxx::broken_connection& e) {
      std::string msg = e.what();
      // PgBouncer (and some proxies) refuse the "options" startup parameter: connect without it
      // and apply the same limits with SET.
      if (msg.find("unsupported startup parameter") == std::string::npos) throw;
      conn_ = std::make_unique<pqxx::connection>(session_conninfo(info, limits, false));
      run(session_set_commands(limits));
    }
  }

  pqxx::result run(std::string_view sql) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec(std::string(kTag) + std::string(sql));
  }
  pqxx::connection& conn() { return *conn_; }

 private:
  std::unique_ptr<pqxx::connection> conn_;
};

std::string connect_error_message(const std::string& raw, const ConnInfo& info, const SessionLimits& limits) {
  std::string msg = libpq_message(raw);
  std::string where = info.display_name();
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos)
    return fmt::format("{}: {} — check the user and password in the DSN (or ~/.pgpass / PGPASSWORD)", where,
                       msg);
  if (msg.find("does not exist") != std::string::npos)
    return fmt::format("{}: {} — check the database and user names in the DSN", where, msg);
  if (msg.find("timeout expired") != std::string::npos)
    return fmt::format("{}: no answer within connect_timeout={} s — check host, port and firewall", where,
                       info.get("connect_timeout", std::to_string(limits.connect_timeout_s)));
  if (msg.find("Connection refused") != std::string::npos)
    return fmt::format("{}: connection refused — is PostgreSQL running and listening on that host and port?",
                       where);
  if (msg.find("no pg_hba.conf entry") != std::string::npos)
    return fmt::format("{}: {} — add a pg_hba.conf line for this client", where, msg);
  // Multi-line libpq messages: keep them on one line.
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return fmt::format("{}: {}", where, msg);
}

struct StatementKey {
  int64_t queryid;
  bool operator==(const StatementKey&) const = default;
};

std::string pgss_select(const std::string& schema, int server_version, bool with_text) {
  std::string exec_time = server_version >= 130000 ? "total_exec_time" : "total_time";
  std::string plan_time = server_version >= 130000 ? "total_plan_time" : "0::float8";
  std::string toplevel = server_version >= 140000 ? " AND s.toplevel" : "";
  return fmt::format(
      "SELECT s.queryid, s.calls, s.rows, s.{} AS exec_ms, s.{} AS plan_ms, s.shared_blks_hit, "
      "s.shared_blks_read, s.temp_blks_written{} FROM {}.pg_stat_statements({}) s "
      "WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND s.queryid IS NOT NULL{}",
      exec_time, plan_time, with_text ? ", left(s.query, 8192) AS query" : "", schema,
      with_text ? "true" : "false", toplevel);
}

using StatementMap = std::unordered_map<int64_t, Statement>;

// Sums entries of the same queryid (one per role using it). With texts, chokepoint's own
// statements go to `own` instead (its load on the server, reported, never judged).
StatementMap read_statements(Connection& s, const std::string& schema, int version, bool with_text,
                             StatementMap* own = nullptr) {
  StatementMap out;
  for (const auto& row : s.run(pgss_select(schema, version, with_text))) {
    int64_t id = row["queryid"].as<int64_t>();
    bool ours = with_text && text(row["query"]).rfind(kTag, 0) == 0;
    if (ours && !own) continue;
    Statement& st = ours ? (*own)[id] : out[id];
    st.queryid = id;
    // Utility statements (ALTER ROLE … PASSWORD '…') are kept verbatim by pg_stat_statements.
    if (with_text && st.query.empty()) st.query = statement_text_for_output(text(row["query"]));
    st.calls += num(row["calls"]);
    st.rows += num(row["rows"]);
    st.total_exec_ms += num(row["exec_ms"]);
    st.total_plan_ms += num(row["plan_ms"]);
    st.shared_blks_hit += num(row["shared_blks_hit"]);
    st.shared_blks_read += num(row["shared_blks_read"]);
    st.temp_blks_written += num(row["temp_blks_written"]);
  }
  return out;
}

std::vector<Statement> statement_deltas(const StatementMap& start, const StatementMap& end, bool cumulative) {
  std::vector<Statement> out;
  for (const auto& [id, e] : end) {
    Statement d = e;
    auto it = start.find(id);
    if (!cumulative && it != start.end() && it->second.calls <= e.calls) {
      const Statement& s = it->second;
      d.calls -= s.calls;
      d.rows -= s.rows;
      d.total_exec_ms -= s.total_exec_ms;
      d.total_plan_ms -= s.total_plan_ms;
      d.shared_blks_hit -= s.shared_blks_hit;
      d.shared_blks_read -= s.shared_blks_read;
      d.temp_blks_written -= s.temp_blks_written;
    }
    if (d.calls > 0) out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.total_exec_ms > b.total_exec_ms; });
  return out;
}

std::map<std::string, double> read_database(Connection& s) {
  std::map<std::string, double> out;
  // stats_reset_age_s: how long the table and index counters have been counting.
  auto r = s.run(
      "SELECT *, extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 "
      "AS stats_reset_age_s FROM pg_stat_database WHERE datname = current_database()");
  if (r.empty()) return out;
  for (pqxx::row::size_type i = 0; i < r.columns(); ++i)
    if (is_numeric_oid(r.column_type(i)) && !r[0][i].is_null()) out[r.column_name(i)] = r[0][i].as<double>();
  return out;
}

// One catalogue read: sizes, scan and write counters, and where the table sits in a partition tree.
std::vector<Table> read_tables(Connection& s) {
  std::vector<Table> out;
  auto r = s.run(
      "SELECT s.schemaname, s.relname, greatest(c.reltuples, 0) AS reltuples, s.n_live_tup, "
      "greatest(c.relpages, 0)::float8 * current_setting('block_size')::float8 AS size_bytes, s.seq_scan, "
      "s.seq_tup_read, coalesce(s.idx_scan, 0) AS idx_scan, coalesce(s.idx_tup_fetch, 0) AS idx_tup_fetch, "
      "s.n_tup_ins, s.n_tup_upd, s.n_tup_del, "
      "s.n_tup_hot_upd, c.relkind = 'p' AS partitioned, "
      "CASE WHEN c.relispartition THEN (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i "
      "  JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
      "  WHERE i.inhrelid = c.oid LIMIT 1) END AS parent, "
      "CASE WHEN c.relispartition THEN (SELECT pn.nspname || '.' || pc.relname FROM pg_class pc "
      "  JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE pc.oid = pg_partition_root(c.oid)) END AS "
      "root "
      "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid");
  for (const auto& row : r) {
    Table t{text(row["schemaname"]), text(row["relname"]), num(row["reltuples"]),    num(row["n_live_tup"]),
            num(row["size_bytes"]),  num(row["seq_scan"]), num(row["seq_tup_read"]), num(row["idx_scan"])};
    t.n_tup_ins = num(row["n_tup_ins"]);
    t.n_tup_upd = num(row["n_tup_upd"]);
    t.n_tup_del = num(row["n_tup_del"]);
    t.n_tup_hot_upd = num(row["n_tup_hot_upd"]);
    t.partitioned = row["partitioned"].as<bool>();
    t.parent = text(row["parent"]);
    t.root = text(row["root"]);
    t.idx_tup_fetch = num(row["idx_tup_fetch"]);
    out.push_back(std::move(t));
  }
  return out;
}

void subtract_table_counters(std::vector<Table>& end, const std::vector<Table>& start) {
  for (auto& t : end)
    for (const auto& s : start)
      if (s.schema == t.schema && s.name == t.name && s.seq_scan <= t.seq_scan &&
          s.n_tup_ins <= t.n_tup_ins) {
        t.seq_scan -= s.seq_scan;
        t.seq_tup_read -= s.seq_tup_read;
        t.idx_scan -= s.idx_scan;
        t.idx_tup_fetch -= s.idx_tup_fetch;
        t.n_tup_ins -= s.n_tup_ins;
        t.n_tup_upd -= s.n_tup_upd;
        t.n_tup_del -= s.n_tup_del;
        t.n_tup_hot_upd -= s.n_tup_hot_upd;
      }
}

std::vector<std::string> json_strings(const std::string& doc) {
  std::vector<std::string> out;
  auto arr = nlohmann::json::parse(doc, nullptr, false);
  if (arr.is_array())
    for (const auto& c : arr) out.push_back(c.is_string() ? c.get<std::string>() : "");
  return out;
}

// Time columns of user tables and the spread of their values from the planner's histogram: one
// catalogue read, no table is scanned.
std::vector<TimeColumn> read_time_columns(Connection& s) {
  std::vector<TimeColumn> out;
  auto r = s.run(
      "SELECT n.nspname, c.relname, a.attname, (SELECT extract(epoch FROM "
      "  (h.b[array_upper(h.b, 1)])::timestamptz - (h.b[1])::timestamptz)::float8 "
      "  FROM (SELECT st.histogram_bounds::text::text[] AS b FROM pg_stats st WHERE st.schemaname = "
      "n.nspname "
      "        AND st.tablename = c.relname AND st.attname = a.attname) h) AS span_s "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
      "c.relnamespace "
      "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
      "AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) "
      "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'");
  for (const auto& row : r) {
    TimeColumn t{text(row["nspname"]), text(row["relname"]), text(row["attname"]), std::nullopt};
    if (!row["span_s"].is_null()) t.span_s = row["span_s"].as<double>();
    out.push_back(std::move(t));
  }
  return out;
}

// One catalogue read: every index with its key columns (in order, which of them descending), its
// flags, its size and how often it was scanned since the statistics reset.
std::vector<Index> read_indexes(Connection& s) {
  std::vector<Index> out;
  auto r = s.run(
      "SELECT n.nspname, t.relname AS tbl, i.relname AS idx, am.amname, ix.indisunique, ix.indisprimary, "
      "ix.indpred IS NOT NULL AS partial, ix.indisexclusion, ix.indisvalid, i.relkind = 'I' AS partitioned, "
      "i.relispartition AS attached, coalesce(st.idx_scan, 0) AS idx_scan, "
      "i.relpages::float8 * current_setting('block_size')::float8 AS size_bytes, "
      "(SELECT json_agg(coalesce(a.attname::text, '') ORDER BY k.ord) "
      "   FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord) "
      "   LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
      "  WHERE k.ord <= ix.indnkeyatts) AS columns, "
      "(SELECT json_agg(coalesce(a.attname::text, '') ORDER BY k.ord) "
      "   FROM unnest(ix.indkey::int2[], ix.indoption::int2[]) WITH ORDINALITY k(attnum, opt, ord) "
      "   LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
      "  WHERE k.ord <= ix.indnkeyatts AND k.opt & 1 = 1) AS desc_columns "
      "FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid "
      "JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace "
      "LEFT JOIN pg_stat_user_indexes st ON st.indexrelid = ix.indexrelid "
      "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'");
  for (const auto& row : r) {
    Index ix{text(row["nspname"]),
             text(row["tbl"]),
             text(row["idx"]),
             text(row["amname"]),
             json_strings(text(row["columns"])),
             row["indisunique"].as<bool>(),
             row["indisprimary"].as<bool>(),
             row["partial"].as<bool>()};
    ix.exclusion = row["indisexclusion"].as<bool>();
    ix.valid = row["indisvalid"].as<bool>();
    ix.partitioned = row["partitioned"].as<bool>();
    ix.attached = row["attached"].as<bool>();
    ix.desc = json_strings(text(row["desc_columns"]));
    ix.idx_scan = num(row["idx_scan"]);
    ix.size_bytes = num(row["size_bytes"]);
    out.push_back(std::move(ix));
  }
  return out;
}

std::map<std::string, std::string> read_settings(Connection& s) {
  std::map<std::string, std::string> out;
  auto r = s.run(
      "SELECT name, setting, coalesce(unit, '') AS unit FROM pg_settings WHERE name IN ('shared_buffers', "
      "'max_connections', 'superuser_reserved_connections', 'reserved_connections', 'block_size', "
      "'pg_stat_statements.max', 'pg_stat_statements.track', 'track_io_timing', 'work_mem', "
      "'effective_cache_size', 'random_page_cost')");
  for (const auto& row : r) {
    std::string unit = text(row["unit"]);
    out[text(row["name"])] = text(row["setting"]) + (unit.empty() ? "" : " " + unit);
  }
  return out;
}

void strip_outputs(nlohmann::json& node) {
  if (!node.is_object()) return;
  node.erase("Output");
  if (auto it = node.find("Plans"); it != node.end())
    for (auto& child : *it) strip_outputs(child);
}

bool plan_uses_index(const nlohmann::json& node, const std::string& index_name) {
  if (!node.is_object()) return false;
  if (node.value("Index Name", "") == index_name) return true;
  if (auto it = node.find("Plans"); it != node.end())
    for (const auto& child : *it)
      if (plan_uses_index(child, index_name)) return true;
  return false;
}

// The generic plan of a normalized statement, the PostgreSQL 15 way: PREPARE it, force the generic
// plan, EXPLAIN EXECUTE with one NULL per parameter. EXPLAIN without ANALYZE plans, never runs.
nlohmann::json generic_plan(pqxx::transaction_base& tx, const std::string& query, int version) {
  std::string sql;
  if (version >= 160000) {
    sql = "EXPLAIN (FORMAT JSON, VERBOSE, GENERIC_PLAN) " + query;
  } else {
    tx.exec(std::string(kTag) + "DEALLOCATE ALL");
    tx.exec(std::string(kTag) + "PREPARE chokepoint_stmt AS " + query);
    auto n = tx.exec(std::string(kTag) +
                     "SELECT coalesce(array_length(parameter_types, 1), 0) FROM pg_prepared_statements "
                     "WHERE name = 'chokepoint_stmt'")[0][0]
                 .as<int>();
    std::vector<std::string> nulls(static_cast<size_t>(n), "NULL");
    sql = fmt::format("EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE chokepoint_stmt{}",
                      n ? fmt::format("({})", fmt::join(nulls, ", ")) : "");
  }
  auto r = tx.exec(std::string(kTag) + sql);
  auto doc = nlohmann::json::parse(text(r[0][0]), nullptr, false);
  if (!doc.is_array() || doc.empty() || !doc[0].contains("Plan"))
    throw CollectError{"unreadable EXPLAIN output"};
  nlohmann::json plan = doc[0]["Plan"];
  strip_outputs(plan);
  return plan;
}

bool plan_uses_any_index(const nlohmann::json& node, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [&](const auto& n) { return plan_uses_index(node, n); });
}

// The plan with `key` as a hypothetical index on the target (on each partition scanned, for a
// partitioned table).
void what_if(pqxx::dbtransaction& tx, pqxx::connection& conn, const std::string& query, int version,
             const ScanTarget& target, const IndexKey& key, Plan& out) {
  WhatIf w{target.schema, target.table, key.columns, std::nullopt, false, "", key.desc, {}};
  if (target.partitioned) w.partitions = target.leaves;
  try {
    // A savepoint per what-if: one failure (a type without a btree operator class …) must not
    // abort the others.
    pqxx::subtransaction sub(tx, "chokepoint_whatif");
    sub.exec(std::string(kTag) + "SELECT hypopg_reset()");
    std::vector<std::string> index_names;
    for (const auto& leaf : target.leaves) {
      auto dot = leaf.find('.');
      std::string ddl = fmt::format("CREATE INDEX ON {}.{} ({})", conn.quote_name(leaf.substr(0, dot)),
                                    conn.quote_name(leaf.substr(dot + 1)), index_key_sql(key));
      auto r =
          sub.exec(std::string(kTag) + "SELECT indexname FROM hypopg_create_index(" + sub.quote(ddl) + ")");
      if (!r.empty()) index_names.push_back(text(r[0][0]));
    }
    // A fresh PREPARE: a cached generic plan would not see the hypothetical index.
    nlohmann::json plan = generic_plan(sub, query, version);
    w.cost_after = plan.value("Total Cost", 0.0);
    w.used = plan_uses_any_index(plan, index_names);
    sub.exec(std::string(kTag) + "SELECT hypopg_reset()");
    sub.commit();
  } catch (const pqxx::sql_error& e) {
    w.error = libpq_message(e.what());
  } catch (const CollectError& e) {
    w.error = e.message;
  }
  out.what_if.push_back(std::move(w));
}

// Plans the statement (and its what-ifs) into `out`. `search_path`: "" keeps the session's.
void plan_statement(Connection& s, const Statement& st, const Snapshot& snap, double whatif_min_rows,
                    const std::string& search_path, Plan& out) {
  // Inside a read-only transaction that is always rolled back; prepared statements outlive a
  // rollback, so DEALLOCATE runs again afterwards. Partition pruning is off: a generic plan
  // executed with NULL parameters would otherwise prune every partition and show no scan to judge.
  pqxx::read_transaction tx(s.conn());
  tx.exec(std::string(kTag) + "SET LOCAL plan_cache_mode = force_generic_plan");
  tx.exec(std::string(kTag) + "SET LOCAL enable_partition_pruning = off");
  if (!search_path.empty()) tx.exec(std::string(kTag) + "SET LOCAL search_path = " + search_path);
  if (snap.hypopg) tx.exec(std::string(kTag) + "SELECT hypopg_reset()");  // no leftover what-if
  out.plan = generic_plan(tx, st.query, snap.server_version_num);
  out.total_cost = out.plan.value("Total Cost", 0.0);
  if (snap.hypopg) {
    // Bounded: a statement joining many big tables (or one with many partitions) must not turn
    // into hundreds of plannings.
    constexpr size_t kMaxWhatIfsPerStatement = 24;
    for (const auto& target : scan_targets(out.plan, snap.tables, snap.indexes)) {
      if (is_system_schema(target.schema) || target_rows(target, snap.tables) < whatif_min_rows) continue;
      for (const auto& key : target.candidates)
        if (out.what_if.size() < kMaxWhatIfsPerStatement)
          what_if(tx, s.conn(), st.query, snap.server_version_num, target, key, out);
    }
  }
  tx.abort();
}

// The application's search_path is not recorded with its statements: when a table is not found on
// chokepoint's, the database's other schemas are tried after it (one catalogue read).
std::string every_schema_path(Connection& s) {
  auto r = s.run(
      "SELECT current_setting('search_path') || coalesce(', ' || string_agg(quote_ident(nspname), ', ' "
      "ORDER BY nspname), '') FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
      "AND nspname <> 'information_schema'");
  return text(r[0][0]);
}

Plan explain_statement(Connection& s, const Statement& st, const Snapshot& snap, double whatif_min_rows,
                       std::string& wider_search_path) {
  Plan out;
  out.queryid = st.queryid;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      out = Plan{};
      out.queryid = st.queryid;
      plan_statement(s, st, snap, whatif_min_rows, attempt ? wider_search_path : "", out);
      break;
    } catch (const pqxx::undefined_table& e) {
      out.error = libpq_message(e.what());
      if (attempt == 0 && wider_search_path.empty()) wider_search_path = every_schema_path(s);
    } catch (const pqxx::sql_error& e) {
      out.error = libpq_message(e.what());
      break;
    } catch (const CollectError& e) {
      out.error = e.message;
      break;
    }
  }
  if (snap.server_version_num < 160000) s.run("DEALLOCATE ALL");
  return out;
}

std::string pgss_missing_message(const std::string& db) {
  return fmt::format(
      "pg_stat_statements is not available in database {}: add pg_stat_statements to "
      "shared_preload_libraries in postgresql.conf, restart PostgreSQL, then run "
      "CREATE EXTENSION pg_stat_statements; in that database",
      db);
}

std::vector<int> parse_int_array(const std::string& s) {  // "{12,34}"
  std::vector<int> out;
  int v = 0;
  bool in_number = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      in_number = true;
    } else if (in_number) {
      out.push_back(v);
      v = 0;
      in_number = false;
    }
  }
  if (in_number) out.push_back(v);
  return out;
}

// Statement text from pg_stat_activity carries the application's literals (user data): keep the
// normalized form only. Text PostgreSQL truncated may not parse; it is cut before any literal.
std::string normalized_activity_query(const std::string& raw) {
  return one_line(statement_text_for_output(raw), 300);
}

constexpr std::string_view kActivitySql =
    "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, a.usename, a.application_name, "
    "coalesce(extract(epoch FROM now() - a.xact_start), 0)::float8 AS xact_age_s, "
    "coalesce(extract(epoch FROM now() - a.state_change), 0)::float8 AS state_age_s, "
    "coalesce(extract(epoch FROM now() - a.query_start), 0)::float8 AS query_age_s, "
    "CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid)::text END AS blocked_by, "
    "CASE WHEN a.wait_event_type = 'Lock' AND a.datname = current_database() THEN "
    "  (SELECT string_agg(DISTINCT l.relation::regclass::text, ',') FROM pg_locks l "
    "    WHERE l.pid = a.pid AND l.relation IS NOT NULL AND (NOT l.granted OR l.locktype = 'tuple')) "
    "END AS lock_relation, "
    "left(a.query, 1024) AS query, coalesce(host(a.client_addr), '') AS client_addr "
    "FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'";

ActivitySample sample_activity(Connection& s, double t_s) {
  ActivitySample out;
  out.t_s = t_s;
  std::vector<Session> all;
  std::map<std::tuple<std::string, std::string, std::string>, ClientCount> clients;
  for (const auto& row : s.run(kActivitySql)) {
    Session ses;
    ses.pid = row["pid"].as<int>();
    ses.state = text(row["state"]);
    ses.wait_event_type = text(row["wait_event_type"]);
    ses.wait_event = text(row["wait_event"]);
    ses.usename = text(row["usename"]);
    ses.application_name = text(row["application_name"]);
    ses.xact_age_s = num(row["xact_age_s"]);
    ses.state_age_s = num(row["state_age_s"]);
    ses.query_age_s = num(row["query_age_s"]);
    ses.blocked_by = parse_int_array(text(row["blocked_by"]));
    ses.relation = text(row["lock_relation"]);
    ses.query = text(row["query"]);
    std::string addr = text(row["client_addr"]);
    ClientCount& client = clients[{ses.application_name, addr, ses.usename}];
    client = {ses.application_name, addr, ses.usename, client.sessions + 1,
              client.active + (ses.state == "active" ? 1 : 0)};
    ++out.total;
    if (ses.state == "active") ++out.active;
    if (ses.state == "idle") ++out.idle;
    if (ses.state.rfind("idle in transaction", 0) == 0) ++out.idle_in_transaction;
    if (ses.wait_event_type == "Lock") ++out.waiting_lock;
    all.push_back(std::move(ses));
  }
  for (auto& [key, client] : clients) out.clients.push_back(std::move(client));
  std::set<int> blockers;
  for (const auto& ses : all) blockers.insert(ses.blocked_by.begin(), ses.blocked_by.end());
  for (auto& ses : all) {
    bool notable = ses.wait_event_type == "Lock" || blockers.count(ses.pid) ||
                   ses.state.rfind("idle in transaction", 0) == 0 ||
                   (ses.state == "active" && ses.xact_age_s >= 1);
    if (!notable) continue;
    ses.query = normalized_activity_query(ses.query);
    out.sessions.push_back(std::move(ses));
  }
  return out;
}

std::optional<double> tcp_handshake_ms(const std::string& host, const std::string& port) {
  if (host.empty() || host.front() == '/' || host.find(',') != std::string::npos) return std::nullopt;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.empty() ? "5432" : port.c_str(), &hints, &res) != 0 || !res)
    return std::nullopt;
  std::optional<double> out;
  int fd = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd >= 0) {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto t0 = Clock::now();
    if (::connect(fd, res->ai_addr, res->ai_addrlen) == 0)
      out = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ::close(fd);
  }
  freeaddrinfo(res);
  return out;
}

// A few short-lived connections, opened after the window so they are not counted in it.
ConnectTiming measure_connect(const ConnInfo& info, const SessionLimits& limits, int attempts) {
  ConnectTiming out;
  std::string conninfo = session_conninfo(info, limits, false);
  for (int i = 0; i < attempts; ++i) {
    auto t0 = Clock::now();
    PGconn* c = PQconnectdb(conninfo.c_str());
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (PQstatus(c) == CONNECTION_OK) {
      out.connect_ms.push_back(ms);
      out.tls = PQsslInUse(c) == 1;
    } else {
      out.error = libpq_message(PQerrorMessage(c));
    }
    PQfinish(c);
  }
  out.tcp_ms = tcp_handshake_ms(info.get("host", info.get("hostaddr")), info.get("port"));
  return out;
}

Snapshot collect_snapshot(Connection& s, const CollectContext& ctx, const ConnInfo& info,
                          const SessionLimits& limits) {
  Snapshot snap;
  bool cumulative = ctx.cumulative();
  snap.server_version_num = s.conn().server_version();
  snap.server_version = text(s.run("SHOW server_version")[0][0]);
  snap.database = text(s.run("SELECT current_database()")[0][0]);

  auto ext = s.run(
      "SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
      "e.extnamespace WHERE e.extname IN ('pg_stat_statements', 'hypopg')");
  std::string pgss_schema;
  for (const auto& row : ext) {
    if (text(row["extname"]) == "hypopg") snap.hypopg = true;
    if (text(row["extname"]) == "pg_stat_statements") {
      snap.pgss_version = text(row["extversion"]);
      pgss_schema = s.conn().quote_name(text(row["nspname"]));
    }
  }
  if (pgss_schema.empty()) throw CollectError{pgss_missing_message(snap.database)};
  snap.pgss_all_visible =
      s.run(
           "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') FROM pg_roles "
           "WHERE rolname = current_user")[0][0]
          .as<bool>();
  bool has_info = snap.server_version_num >= 140000;
  auto read_dealloc = [&]() -> double {
    return has_info ? num(s.run("SELECT dealloc FROM " + pgss_schema + ".pg_stat_statements_info")[0][0]) : 0;
  };

  StatementMap start_statements;
  std::vector<Table> start_tables;
  double start_dealloc = 0;
  auto started = Clock::now();
  try {
    if (!cumulative) start_statements = read_statements(s, pgss_schema, snap.server_version_num, false);
  } catch (const pqxx::sql_error& e) {
    // Installed but not preloaded: "pg_stat_statements must be loaded via shared_preload_libraries".
    throw CollectError{pgss_missing_message(snap.database) + " (" + libpq_message(e.what()) + ")"};
  }
  if (!cumulative) {
    snap.database_start = read_database(s);
    start_tables = read_tables(s);
    start_dealloc = read_dealloc();
  }
  snap.sample_interval_s = interval_option(ctx, "postgres", "sample_interval_ms", 50);
  sample_through_window(ctx, snap.sample_interval_s,
                        [&](double t_s) { snap.activity.push_back(sample_activity(s, t_s)); });

  StatementMap own_statements;
  StatementMap end_statements =
      read_statements(s, pgss_schema, snap.server_version_num, true, &own_statements);
  for (const auto& own : statement_deltas(start_statements, own_statements, cumulative)) {
    snap.self_calls += own.calls;
    snap.self_exec_ms += own.total_exec_ms;
  }
  snap.database_end = read_database(s);
  snap.tables = read_tables(s);
  snap.window_s = ctx.measured_window(started);
  snap.statements = statement_deltas(start_statements, end_statements, cumulative);
  if (!cumulative) subtract_table_counters(snap.tables, start_tables);
  snap.pgss_dealloc = read_dealloc() - start_dealloc;
  if (has_info) {
    auto age = s.run("SELECT extract(epoch FROM now() - stats_reset)::float8 FROM " + pgss_schema +
                     ".pg_stat_statements_info")[0][0];
    if (!age.is_null()) snap.stats_age_s = age.as<double>();
  }
  if (auto age = snap.database_end.find("stats_reset_age_s"); age != snap.database_end.end())
    snap.table_stats_age_s = age->second;
  snap.indexes = read_indexes(s);
  snap.time_columns = read_time_columns(s);
  snap.settings = read_settings(s);
  if (auto it = snap.settings.find("pg_stat_statements.max"); it != snap.settings.end())
    snap.pgss_max = std::atof(it->second.c_str());

  int attempts = static_cast<int>(ctx.option("postgres", "connect_samples"));
  if (attempts > 0) snap.connect = measure_connect(info, limits, attempts);

  double explain_top = ctx.option("postgres", "explain_top");
  double whatif_min_rows = ctx.config().params("db.missing_index")["min_table_rows"];
  int explained = 0;
  std::string wider_search_path;  // read once, when a statement's table is not on the default path
  for (const auto& st : snap.statements) {
    if (explained >= explain_top) break;
    if (!is_explainable(st.query)) continue;
    snap.plans.push_back(explain_statement(s, st, snap, whatif_min_rows, wider_search_path));
    ++explained;
  }
  return snap;
}

}  // namespace

Collected collect(const Target& target, const CollectContext& ctx) {
  Collected out;
  std::string parse_error;
  auto info = parse_conninfo(target.spec(), parse_error);
  if (!info) {
    out.status = ProbeStatus::error;
    out.message = scrub("invalid DSN: " + parse_error, target.secrets);
    return out;
  }
  SessionLimits limits;
  std::unique_ptr<Connection> session;
  // A session that dies once connected (server restart, pg_terminate_backend) surfaces as whatever
  // the next call fails with ("Could not obtain client encoding: not connected"): say what happened.
  auto lost = [&](const std::string& raw) {
    std::string reason = libpq_message(raw);
    if (reason.find("client encoding") != std::string::npos ||
        reason.find("not connected") != std::string::npos)
      reason = "the server closed the connection";  // pqxx's follow-up error, not the cause
    return fmt::format(
        "{}: the connection was lost during the window (the server restarted or ended the session): "
        "nothing of this window was kept — {}",
        info->display_name(), reason);
  };
  try {
    try {
      session = std::make_unique<Connection>(*info, limits);
    } catch (const pqxx::broken_connection& e) {
      throw CollectError{connect_error_message(e.what(), *info, limits)};
    }
    out.snapshot = collect_snapshot(*session, ctx, *info, limits);
  } catch (const CollectError& e) {
    out.status = ProbeStatus::error;
    out.message = e.message;
  } catch (const pqxx::broken_connection& e) {
    out.status = ProbeStatus::error;
    out.message = lost(e.what());
  } catch (const pqxx::sql_error& e) {
    out.status = ProbeStatus::error;
    // 57P01..: the server shut the session down; 08xxx: the connection failed.
    if (e.sqlstate().rfind("57P", 0) == 0 || e.sqlstate().rfind("08", 0) == 0 ||
        (session && !session->conn().is_open())) {
      out.message = scrub(lost(e.what()), target.secrets);
      return out;
    }
    std::string hint = e.sqlstate() == "42501" ? " — grant the role pg_monitor (or pg_read_all_stats)" : "";
    out.message = fmt::format("{}: {}{}", info->display_name(), libpq_message(e.what()), hint);
  } catch (const std::exception& e) {
    out.status = ProbeStatus::error;
    out.message = session && !session->conn().is_open()
                      ? lost(e.what())
                      : fmt::format("{}: {}", info->display_name(), libpq_message(e.what()));
  }
  out.message = scrub(out.message, target.secrets);
  return out;
}

}  // namespace cp::pg
