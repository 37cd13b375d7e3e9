// The index adviser's pure parts (candidates from plans, partition DDL, existing-index checks) and
// db.missing_index on both sides of each of its thresholds.
#include <doctest/doctest.h>

#include "harness.hpp"
#include "probes/postgres/index_advice.hpp"
#include "probes/postgres/rules.hpp"

using namespace cp;
using PlanJson = nlohmann::json;

namespace {

pg::Snapshot missing_index_snapshot() {
  return test::fixture("postgres/missing_index.evidence.json")["probes"][0]["snapshot"].get<pg::Snapshot>();
}

std::vector<Finding> advice(const pg::Snapshot& s, const Settings& settings = {}) {
  Target t{"postgres", "--postgres", {""}, "postgresql://app@127.0.0.1:5432/shop", {}};
  std::vector<Finding> out;
  for (auto& f : pg::judge(s, t, settings).findings)
    if (f.rule == "db.missing_index") out.push_back(std::move(f));
  return out;
}

pg::Plan& orders_plan(pg::Snapshot& s) {
  for (auto& p : s.plans)
    if (!p.what_if.empty()) return p;
  throw std::runtime_error("fixture without a what-if");
}

PlanJson seq_scan(const std::string& table, const std::string& alias, const std::string& filter = "") {
  PlanJson n = {{"Node Type", "Seq Scan"}, {"Relation Name", table}, {"Schema", "public"},
                {"Alias", alias},          {"Plan Rows", 100.0},     {"Total Cost", 1000.0}};
  if (!filter.empty()) n["Filter"] = filter;
  return n;
}

pg::Table table(const std::string& name, double rows, const std::string& parent = "",
                bool partitioned = false) {
  pg::Table t;
  t.schema = "public";
  t.name = name;
  t.reltuples = rows;
  t.partitioned = partitioned;
  if (!parent.empty()) {
    t.parent = "public." + parent;
    t.root = "public." + parent;
  }
  return t;
}

std::vector<std::vector<std::string>> keys(const pg::ScanTarget& t) {
  std::vector<std::vector<std::string>> out;
  for (const auto& k : t.candidates) {
    std::vector<std::string> cols;
    for (const auto& c : k.columns)
      cols.push_back(c + (std::find(k.desc.begin(), k.desc.end(), c) != k.desc.end() ? " DESC" : ""));
    out.push_back(cols);
  }
  return out;
}

}  // namespace

TEST_CASE("candidates: a DESC sort with LIMIT and no filter gives the sort column (backward scan)") {
  PlanJson plan = {
      {"Node Type", "Limit"},
      {"Plans",
       {{{"Node Type", "Sort"}, {"Sort Key", {"e.created_at DESC"}}, {"Plans", {seq_scan("events", "e")}}}}}};
  auto targets = pg::scan_targets(plan, {table("events", 2e5)});
  REQUIRE(targets.size() == 1);
  CHECK(keys(targets[0]) == std::vector<std::vector<std::string>>{{"created_at"}});
  CHECK(targets[0].candidates[0].source == "sort");
}

TEST_CASE("candidates: equality columns first, then the sort columns, mixed directions keep DESC") {
  PlanJson plan = {{"Node Type", "Sort"},
                   {"Sort Key", {"events.created_at DESC", "events.id"}},
                   {"Plans", {seq_scan("events", "events", "(events.account_id = $1)")}}};
  auto t = pg::scan_targets(plan, {table("events", 2e5)});
  REQUIRE(t.size() == 1);
  auto k = keys(t[0]);
  REQUIRE(k.size() >= 2);
  CHECK(k[0] == std::vector<std::string>{"account_id"});
  CHECK(k[1] == std::vector<std::string>{"account_id", "created_at", "id DESC"});
  CHECK(k[2] == std::vector<std::string>{"created_at", "id DESC"});
}

TEST_CASE("candidates: a sort on an expression or ASC NULLS FIRST is not served by a plain index") {
  for (const char* key : {"lower(events.email)", "events.created_at NULLS FIRST"}) {
    PlanJson plan = {{"Node Type", "Sort"}, {"Sort Key", {key}}, {"Plans", {seq_scan("events", "events")}}};
    auto t = pg::scan_targets(plan, {table("events", 2e5)});
    REQUIRE(t.size() == 1);
    CAPTURE(key);
    CHECK(t[0].candidates.empty());
  }
}

TEST_CASE("candidates: the big side of an equi-join gets its join column") {
  PlanJson plan = {{"Node Type", "Hash Join"},
                   {"Hash Cond", "(e.account_id = a.id)"},
                   {"Plans", {seq_scan("events", "e"), seq_scan("accounts", "a", "(a.email = $1)")}}};
  auto t = pg::scan_targets(plan, {table("events", 2e5), table("accounts", 2000)});
  REQUIRE(t.size() == 2);
  CHECK(keys(t[0]) == std::vector<std::vector<std::string>>{{"account_id"}});
  CHECK(t[0].candidates[0].source == "join");
  CHECK(keys(t[1])[0] == std::vector<std::string>{"email"});
}

TEST_CASE("candidates: a CTE scan's sort names the CTE, not the table under it") {
  PlanJson plan = {
      {"Node Type", "Sort"},
      {"Sort Key", {"x.created_at"}},
      {"Plans", {{{"Node Type", "CTE Scan"}, {"Alias", "x"}, {"Plans", {seq_scan("events", "events")}}}}}};
  auto t = pg::scan_targets(plan, {table("events", 2e5)});
  REQUIRE(t.size() == 1);
  CHECK(t[0].candidates.empty());
}

TEST_CASE("partitions: scans of each partition are one target on the parent, rows summed") {
  PlanJson plan = {
      {"Node Type", "Append"},
      {"Plans",
       {seq_scan("m_1", "m_1", "(m_1.device_id = $1)"), seq_scan("m_2", "m_2", "(m_2.device_id = $1)")}}};
  std::vector<pg::Table> tables = {table("m", 0, "", true), table("m_1", 6e4, "m"), table("m_2", 7e4, "m")};
  auto t = pg::scan_targets(plan, tables);
  REQUIRE(t.size() == 1);
  CHECK(t[0].table == "m");
  CHECK(t[0].partitioned);
  CHECK(t[0].leaves == std::vector<std::string>{"public.m_1", "public.m_2"});
  CHECK(pg::target_rows(t[0], tables) == 1.3e5);
  CHECK(keys(t[0]) == std::vector<std::vector<std::string>>{{"device_id"}});
}

TEST_CASE("partitions: the parent's index ON ONLY, each partition's CONCURRENTLY, then ATTACH") {
  std::vector<pg::Table> tables = {table("m", 0, "", true), table("m_1", 6e4, "m"), table("m_2", 7e4, "m")};
  auto sql = pg::create_index_statements(tables, "public", "m", {{"device_id"}, {}, "filter"});
  REQUIRE(sql.size() == 5);
  CHECK(sql[0] == "CREATE INDEX IF NOT EXISTS m_device_id_idx ON ONLY public.m (device_id)");
  CHECK(sql[1] == "CREATE INDEX CONCURRENTLY IF NOT EXISTS m_1_device_id_idx ON public.m_1 (device_id)");
  CHECK(sql[2] == "ALTER INDEX public.m_device_id_idx ATTACH PARTITION public.m_1_device_id_idx");
  CHECK(sql[4] == "ALTER INDEX public.m_device_id_idx ATTACH PARTITION public.m_2_device_id_idx");
  // A plain table: one concurrent statement, DESC kept where the key needs it.
  auto plain = pg::create_index_statements({table("e", 2e5)}, "public", "e", {{"a", "b"}, {"b"}, "sort"});
  CHECK(plain == std::vector<std::string>{"CREATE INDEX CONCURRENTLY ON public.e (a, b DESC)"});
  CHECK(pg::index_name(std::string(80, 't'), {{"c"}, {}, ""}).size() <= 63);
}

TEST_CASE("existing indexes: a key is served by an index that leads with it, in either direction") {
  pg::Index ix{"public", "e", "e_a_b_idx", "btree", {"a", "b"}, false, false, false};
  std::vector<pg::Index> ixs = {ix};
  CHECK(pg::key_served_by_index(ixs, "public", "e", {{"a"}, {}, ""}));
  CHECK(pg::key_served_by_index(ixs, "public", "e", {{"a", "b"}, {}, ""}));
  CHECK(pg::key_served_by_index(ixs, "public", "e", {{"a", "b"}, {"a", "b"}, ""}));  // backward scan
  CHECK_FALSE(pg::key_served_by_index(ixs, "public", "e", {{"a", "b"}, {"b"}, ""}));
  CHECK_FALSE(pg::key_served_by_index(ixs, "public", "e", {{"b"}, {}, ""}));
  CHECK_FALSE(pg::key_served_by_index(ixs, "public", "e", {{"a", "b", "c"}, {}, ""}));
  ixs[0].valid = false;  // a failed CREATE INDEX CONCURRENTLY serves nothing
  CHECK_FALSE(pg::key_served_by_index(ixs, "public", "e", {{"a"}, {}, ""}));
}

// No knife edges: every threshold judged on both sides, at the value itself (inclusive) and just past.
TEST_CASE("thresholds: min_cost_savings_ratio 0.5 — exactly half fires, just under half does not") {
  auto s = missing_index_snapshot();
  auto& plan = orders_plan(s);
  plan.what_if[0].cost_after = *plan.total_cost * 0.5;
  CHECK(advice(s).size() == 1);
  plan.what_if[0].cost_after = *plan.total_cost * 0.501;
  CHECK(advice(s).empty());
  plan.what_if[0].cost_after = *plan.total_cost * 0.49;  // 51 % saved
  CHECK(advice(s).size() == 1);
}

TEST_CASE("thresholds: max_selectivity 0.1 (without HypoPG) — exactly 0.1 fires, above does not") {
  auto s = missing_index_snapshot();
  s.hypopg = false;
  auto& scan = orders_plan(s).plan["Plans"][0];
  // A parallel scan's rows are per process: 3 processes (2 workers + leader).
  scan["Plan Rows"] = 1e6 * 0.1 / 3;
  CHECK(advice(s).size() == 1);
  scan["Plan Rows"] = 1e6 * 0.1001 / 3;
  CHECK(advice(s).empty());
}

TEST_CASE("thresholds: min_table_rows — a table of exactly that many rows fires, one row fewer does not") {
  auto s = missing_index_snapshot();
  Settings settings;
  settings.rules["db.missing_index"].thresholds["min_table_rows"] = 1e6;  // orders has 1M rows
  CHECK(advice(s, settings).size() == 1);
  settings.rules["db.missing_index"].thresholds["min_table_rows"] = 1e6 + 1;
  CHECK(advice(s, settings).empty());
}

TEST_CASE("thresholds: min_db_time_share — a statement at exactly that share fires, below does not") {
  auto s = missing_index_snapshot();
  double total = 0;
  for (const auto& st : s.statements) total += st.total_exec_ms;
  double share = s.statements[0].total_exec_ms / total;
  Settings settings;
  settings.rules["db.missing_index"].thresholds["min_db_time_share"] = share;
  CHECK(advice(s, settings).size() == 1);
  settings.rules["db.missing_index"].thresholds["min_db_time_share"] = share * 1.001;
  CHECK(advice(s, settings).empty());
}

TEST_CASE(
    "near tie: a narrower index within near_tie_ratio of the cheapest wins, a clearly cheaper wider one "
    "wins") {
  auto s = missing_index_snapshot();
  auto& plan = orders_plan(s);
  plan.plan["Plans"][0]["Filter"] = "((orders.customer_id = $1) AND (orders.status = $2))";
  auto narrow = plan.what_if[0];  // (customer_id), cost 193.3
  auto wide = narrow;
  wide.columns = {"customer_id", "status"};
  wide.cost_after = *narrow.cost_after * 0.96;  // within 5 %
  plan.what_if = {wide, narrow};
  auto found = advice(s);
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["columns"] == json::array({"customer_id"}));
  plan.what_if[0].cost_after = *narrow.cost_after * 0.94;  // more than 5 % cheaper
  found = advice(s);
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["columns"] == json::array({"customer_id", "status"}));
}

TEST_CASE("per-statement evidence: each statement the index serves, with its own costs and calls") {
  auto s = missing_index_snapshot();
  auto first = s.statements[0];
  auto second = first;
  second.queryid = 99;
  second.query = "SELECT count(*) FROM orders WHERE customer_id = $1";
  second.calls = 7;
  second.total_exec_ms = first.total_exec_ms / 2;
  s.statements.push_back(second);
  auto plan = orders_plan(s);
  plan.queryid = 99;
  plan.total_cost = 20000;
  plan.what_if[0].cost_after = 100;
  s.plans.push_back(plan);
  auto found = advice(s);
  REQUIRE(found.size() == 1);
  const auto& sts = found[0].evidence["statements"];
  REQUIRE(sts.size() == 2);
  CHECK(sts[0]["queryid"] == first.queryid);
  CHECK(sts[1]["queryid"] == 99);
  CHECK(sts[1]["calls"] == 7);
  CHECK(sts[1]["cost_before"] == 20000);
  CHECK(sts[1]["cost_after"] == 100);
  CHECK(sts[0]["cost_before"] != sts[1]["cost_before"]);
  CHECK(found[0].evidence["queryids"].size() == 2);
  CHECK(found[0].detail.find("2 statements") != std::string::npos);
}

TEST_CASE("write cost: the table's measured writes are stated beside the read gain") {
  auto s = missing_index_snapshot();
  for (auto& t : s.tables)
    if (t.name == "orders") {
      t.n_tup_ins = 50000;
      t.n_tup_upd = 1000;
      t.n_tup_hot_upd = 400;
    }
  auto found = advice(s);
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["table_writes"] == 51000);
  CHECK(found[0].evidence["table_hot_update_ratio"] == doctest::Approx(0.4));
  CHECK(found[0].evidence["table_writes_per_s"].get<double>() > 0);
  CHECK(found[0].detail.find("Write cost") != std::string::npos);
}

TEST_CASE("catalog tables are never advised") {
  auto s = missing_index_snapshot();
  auto& plan = orders_plan(s);
  plan.plan["Plans"][0]["Schema"] = "pg_catalog";
  for (auto& w : plan.what_if) w.schema = "pg_catalog";
  for (auto& t : s.tables)
    if (t.name == "orders") t.schema = "pg_catalog";
  CHECK(advice(s).empty());
}

namespace {

std::vector<Finding> of_rule(const pg::Snapshot& s, const std::string& rule, const Settings& settings = {}) {
  Target t{"postgres", "--postgres", {""}, "postgresql://app@127.0.0.1:5432/shop", {}};
  std::vector<Finding> out;
  for (auto& f : pg::judge(s, t, settings).findings)
    if (f.rule == rule) out.push_back(std::move(f));
  return out;
}

pg::Index orders_index(const std::string& name, std::vector<std::string> columns) {
  pg::Index ix{"public", "orders", name, "btree", std::move(columns), false, false, false};
  ix.idx_scan = 10;
  ix.size_bytes = 8e6;
  return ix;
}

pg::Snapshot with_orders_writes(double writes_per_s) {
  auto s = missing_index_snapshot();
  for (auto& t : s.tables)
    if (t.name == "orders") t.n_tup_ins = writes_per_s * s.window_s;
  return s;
}

}  // namespace

TEST_CASE("db.duplicate_index: an index that leads another is reported once, with the DROP statement") {
  auto s = missing_index_snapshot();
  s.table_stats_age_s = 3 * 86400;
  s.indexes.push_back(orders_index("orders_customer_idx", {"customer_id"}));
  s.indexes.push_back(orders_index("orders_customer_status_idx", {"customer_id", "status"}));
  auto found = of_rule(s, "db.duplicate_index");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::low);
  CHECK(found[0].evidence["index"] == "orders_customer_idx");
  CHECK(found[0].evidence["covering_index"] == "orders_customer_status_idx");
  CHECK(found[0].evidence["stats_age_s"] == 3 * 86400);
  CHECK(found[0].remediation.sql == "DROP INDEX CONCURRENTLY public.orders_customer_idx;");
  CHECK(found[0].detail.find("3 days") != std::string::npos);
  // Two identical indexes: one of them (the later name) is reported.
  s.indexes.push_back(orders_index("orders_customer_idx2", {"customer_id"}));
  found = of_rule(s, "db.duplicate_index");
  CHECK(found.size() == 2);
}

TEST_CASE("db.duplicate_index: not for a unique, partial or differently ordered index, nor another column") {
  auto s = missing_index_snapshot();
  auto longer = orders_index("orders_customer_status_idx", {"customer_id", "status"});
  s.indexes.push_back(longer);
  auto a = orders_index("orders_customer_idx", {"customer_id"});
  a.unique = true;
  s.indexes.push_back(a);
  CHECK(of_rule(s, "db.duplicate_index").empty());
  s.indexes.back().unique = false;
  s.indexes.back().partial = true;
  CHECK(of_rule(s, "db.duplicate_index").empty());
  s.indexes.back().partial = false;
  s.indexes.back().desc = {"customer_id"};
  CHECK(of_rule(s, "db.duplicate_index").empty());
  s.indexes.back().desc = {};
  s.indexes.back().columns = {"status"};
  CHECK(of_rule(s, "db.duplicate_index").empty());
}

TEST_CASE("db.unused_index: never scanned on a written table, min_table_writes_per_s judged on both sides") {
  auto s = with_orders_writes(1.0);  // exactly the threshold
  s.table_stats_age_s = 600;
  auto ix = orders_index("orders_status_idx", {"status"});
  ix.idx_scan = 0;
  s.indexes.push_back(ix);
  auto found = of_rule(s, "db.unused_index");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::low);
  CHECK(found[0].evidence["index_scans"] == 0);
  CHECK(found[0].evidence["stats_age_s"] == 600);
  CHECK(found[0].evidence["table_writes_per_s"] == doctest::Approx(1.0));
  CHECK(found[0].remediation.sql == "DROP INDEX CONCURRENTLY public.orders_status_idx;");
  auto quiet = with_orders_writes(0.99);
  quiet.indexes = s.indexes;
  CHECK(of_rule(quiet, "db.unused_index").empty());
  // Scanned once: used. A primary key: a constraint, never reported.
  s.indexes.back().idx_scan = 1;
  CHECK(of_rule(s, "db.unused_index").empty());
  s.indexes.back().idx_scan = 0;
  s.indexes.back().primary = true;
  CHECK(of_rule(s, "db.unused_index").empty());
}

TEST_CASE(
    "candidates: an index scan that still sorts or filters is a target, keys its index serves are not") {
  PlanJson heap = {{"Node Type", "Bitmap Heap Scan"},
                   {"Relation Name", "events"},
                   {"Schema", "public"},
                   {"Alias", "events"},
                   {"Recheck Cond", "(events.account_id = $1)"},
                   {"Plan Rows", 100.0}};
  PlanJson plan = {{"Node Type", "Sort"}, {"Sort Key", {"events.created_at DESC"}}, {"Plans", {heap}}};
  std::vector<pg::Index> indexes = {
      {"public", "events", "events_account_idx", "btree", {"account_id"}, false, false, false}};
  auto t = pg::scan_targets(plan, {table("events", 2e5)}, indexes);
  REQUIRE(t.size() == 1);
  CHECK(keys(t[0]) == std::vector<std::vector<std::string>>{{"account_id", "created_at"}, {"created_at"}});
  // The same scan with nothing left to do (no sort, no residual filter) is no target.
  CHECK(pg::scan_targets(heap, {table("events", 2e5)}, indexes).empty());
  // A residual filter makes it one again: the two-column key.
  heap["Filter"] = "(events.status = $2)";
  t = pg::scan_targets(heap, {table("events", 2e5)}, indexes);
  REQUIRE(t.size() == 1);
  CHECK(keys(t[0])[0] == std::vector<std::string>{"account_id", "status"});
}

TEST_CASE("thresholds: high_db_time_share and critical_db_time_share are inclusive") {
  auto s = missing_index_snapshot();
  double total = 0;
  for (const auto& st : s.statements) total += st.total_exec_ms;
  double share = s.statements[0].total_exec_ms / total;
  Settings settings;
  auto& t = settings.rules["db.missing_index"].thresholds;
  t["critical_db_time_share"] = share;
  REQUIRE(advice(s, settings).size() == 1);
  CHECK(advice(s, settings)[0].severity == Severity::critical);
  t["critical_db_time_share"] = share * 1.001;
  t["high_db_time_share"] = share;
  CHECK(advice(s, settings)[0].severity == Severity::high);
  t["high_db_time_share"] = share * 1.001;
  CHECK(advice(s, settings)[0].severity == Severity::medium);
}

TEST_CASE(
    "thresholds: db.duplicate_index min_index_bytes and db.unused_index max_index_scans are inclusive") {
  auto s = with_orders_writes(5);
  s.indexes.push_back(orders_index("orders_customer_idx", {"customer_id"}));
  s.indexes.push_back(orders_index("orders_customer_status_idx", {"customer_id", "status"}));
  Settings settings;
  settings.rules["db.duplicate_index"].thresholds["min_index_bytes"] = 8e6;  // the index's size
  CHECK(of_rule(s, "db.duplicate_index", settings).size() == 1);
  settings.rules["db.duplicate_index"].thresholds["min_index_bytes"] = 8e6 + 1;
  CHECK(of_rule(s, "db.duplicate_index", settings).empty());
  // orders_customer_status_idx has 10 scans: unused at max_index_scans = 10, not at 9.
  settings.rules["db.unused_index"].thresholds["max_index_scans"] = 10;
  auto unused = of_rule(s, "db.unused_index", settings);
  REQUIRE(unused.size() == 1);  // the duplicate is reported as a duplicate only
  CHECK(unused[0].evidence["index"] == "orders_customer_status_idx");
  settings.rules["db.unused_index"].thresholds["max_index_scans"] = 9;
  CHECK(of_rule(s, "db.unused_index", settings).empty());
}

TEST_CASE(
    "candidates: a correlated subquery's scan, filtered by the outer query's column, gets that column") {
  PlanJson plan = {{"Node Type", "Seq Scan"},
                   {"Relation Name", "accounts"},
                   {"Schema", "public"},
                   {"Alias", "a"},
                   {"Plan Rows", 10.0},
                   {"Plans",
                    {{{"Node Type", "Aggregate"},
                      {"Parent Relationship", "SubPlan"},
                      {"Plans", {seq_scan("events", "e", "((e.account_id = a.id) AND (e.status = $1))")}}}}}};
  auto t = pg::scan_targets(plan, {table("events", 2e5), table("accounts", 2000)});
  REQUIRE(t.size() == 2);
  CHECK(t[1].table == "events");
  CHECK(t[1].join_columns == std::vector<std::string>{"account_id"});
  auto k = keys(t[1]);
  CHECK(std::find(k.begin(), k.end(), std::vector<std::string>{"account_id", "status"}) != k.end());
}
