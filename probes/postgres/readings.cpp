#include "probes/postgres/readings.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/sql.hpp"

namespace cp::pg {

namespace {

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

std::vector<std::string> json_strings(const std::string& doc) {
  std::vector<std::string> out;
  auto arr = nlohmann::json::parse(doc, nullptr, false);
  if (arr.is_array())
    for (const auto& c : arr) out.push_back(c.is_string() ? c.get<std::string>() : "");
  return out;
}

}  // namespace

StatementMap read_statements(Connection& s, const std::string& schema, int version, bool with_text,
                             StatementMap* own) {
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

}  // namespace cp::pg
