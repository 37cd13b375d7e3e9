#include "probes/postgres/levers.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "probes/postgres/session_rules.hpp"
#include "probes/postgres/statement_access.hpp"

namespace cp::pg {

namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

void add_concurrency(const Snapshot& snap, PostgresLoad& out) {
  std::vector<double> active;
  double total = 0, active_sum = 0;
  for (const auto& s : snap.activity) {
    active.push_back(s.active);
    total += s.total;
    active_sum += s.active;
    out.connections_peak = std::max(out.connections_peak, static_cast<double>(s.total));
    out.active_peak = std::max(out.active_peak, static_cast<double>(s.active));
  }
  out.samples = static_cast<double>(snap.activity.size());
  if (snap.activity.empty()) return;
  out.connections_avg = total / out.samples;
  out.active_avg = active_sum / out.samples;
  out.active_p95 = percentile(active, 0.95);
}

void add_clients(const Snapshot& snap, PostgresLoad& out) {
  std::map<std::tuple<std::string, std::string, std::string>, ClientLoad> clients;
  for (const auto& s : snap.activity)
    for (const auto& c : s.clients) {
      ClientLoad& load = clients[{c.application_name, c.client_addr, c.usename}];
      load.application_name = c.application_name;
      load.client_addr = c.client_addr;
      load.usename = c.usename;
      load.active_avg += c.active / out.samples;
      load.sessions_avg += c.sessions / out.samples;
    }
  for (auto& [key, load] : clients) out.clients.push_back(std::move(load));
  std::stable_sort(out.clients.begin(), out.clients.end(),
                   [](const ClientLoad& a, const ClientLoad& b) { return a.active_avg > b.active_avg; });
}

TableLoad table_load(const Table& t, const Snapshot& snap) {
  TableLoad out;
  out.schema = t.schema;
  out.name = t.name;
  out.rows = std::max(t.reltuples, t.n_live_tup);
  out.size_bytes = t.size_bytes;
  out.partitioned = t.partitioned || !t.parent.empty();
  out.scans = t.seq_scan + t.idx_scan;
  out.rows_read = t.seq_tup_read + t.idx_tup_fetch;
  out.idx_scans = t.idx_scan;
  out.idx_rows_fetched = t.idx_tup_fetch;
  out.inserts = t.n_tup_ins;
  out.updates = t.n_tup_upd;
  out.deletes = t.n_tup_del;
  for (const auto& c : snap.time_columns)
    if (c.schema == t.schema && c.table == t.name) out.time_columns.push_back(c.column);
  return out;
}

TableLoad* find_table(std::vector<TableLoad>& tables, const std::string& name) {
  for (auto& t : tables)
    if (t.name == name || t.schema + "." + t.name == name) return &t;
  return nullptr;
}

std::string time_range_column(const TableLoad& t, const StatementAccess& a) {
  for (const auto& c : a.range_columns)
    if (std::find(t.time_columns.begin(), t.time_columns.end(), c) != t.time_columns.end()) return c;
  return "";
}

// Range reads on a time column: the hottest statement names the column, all of them add up.
void add_range_read(TableLoad& t, const Statement& st, const StatementAccess& a) {
  std::string column = time_range_column(t, a);
  if (column.empty()) return;
  if (!t.range_column.empty() && t.range_column != column) return;
  if (t.range_column.empty() || st.total_exec_ms > t.range_read_ms) {
    t.range_query = st.query;
    t.range_aggregate = a.aggregate;
    t.range_rows_per_call = st.calls > 0 ? st.rows / st.calls : 0;
  }
  t.range_column = column;
  t.range_read_ms += st.total_exec_ms;
  t.range_read_calls += st.calls;
}

void add_statement(const Statement& st, PostgresLoad& out) {
  StatementAccess a = statement_access(st.query);
  if (!a.session_feature.empty() && std::find(out.session_features.begin(), out.session_features.end(),
                                              a.session_feature) == out.session_features.end())
    out.session_features.push_back(a.session_feature);
  if (a.kind == StatementKind::write) {
    out.write_ms += st.total_exec_ms;
    if (a.verb != "delete" || a.tables.size() != 1) return;
    TableLoad* t = find_table(out.tables, a.tables.front());
    if (!t || time_range_column(*t, a).empty()) return;
    if (t->purge_query.empty()) t->purge_query = st.query;
    t->purge_calls += st.calls;
    return;
  }
  if (a.kind != StatementKind::read) {
    out.other_ms += st.total_exec_ms;
    return;
  }
  out.read_ms += st.total_exec_ms;
  out.reads.push_back({st.query, st.calls, st.total_exec_ms, st.rows, a.tables, a.aggregate});
  if (a.tables.size() != 1) return;
  if (TableLoad* t = find_table(out.tables, a.tables.front())) {
    t->read_ms += st.total_exec_ms;
    t->read_calls += st.calls;
    add_range_read(*t, st, a);
  }
}

void add_time_spans(const Snapshot& snap, PostgresLoad& out) {
  for (auto& t : out.tables)
    for (const auto& c : snap.time_columns)
      if (c.schema == t.schema && c.table == t.name && c.column == t.range_column) t.time_span_s = c.span_s;
}

}  // namespace

PostgresLoad postgres_load(const Workload& w, const std::string& target) {
  const Snapshot& snap = *w.snap;
  PostgresLoad out;
  out.target = target;
  out.component = w.component;
  out.database = snap.database;
  out.window_s = w.time_base_s;
  out.db_time_ms = w.db_time_ms;
  out.xacts = w.xacts;
  out.sessions = w.counter_delta("sessions");
  if (!snap.connect.connect_ms.empty()) out.connect_ms = percentile(snap.connect.connect_ms, 0.5);
  out.max_connections = setting_number(snap, "max_connections");
  out.usable_connections = usable_connections(snap);
  add_concurrency(snap, out);
  add_clients(snap, out);
  for (const auto& t : snap.tables) out.tables.push_back(table_load(t, snap));
  for (const auto& st : snap.statements) add_statement(st, out);  // most time first
  add_time_spans(snap, out);
  return out;
}

}  // namespace cp::pg
