// PostgreSQL rules judged from evidence recorded on the demo scenarios (tests/fixtures/postgres),
// and from variants of it that isolate one condition each.
#include <doctest/doctest.h>

#include "harness.hpp"
#include "probes/postgres/rules.hpp"

using namespace cp;
using json = nlohmann::ordered_json;

namespace {

pg::Snapshot snapshot(const std::string& scenario) {
  return test::fixture("postgres/" + scenario + ".evidence.json")["probes"][0]["snapshot"]
      .get<pg::Snapshot>();
}

Judgement judge(const pg::Snapshot& s, const Settings& settings = {}) {
  Target t{"postgres", "--postgres", {""}, "postgresql://app@127.0.0.1:5432/shop", {}};
  return pg::judge(s, t, settings);
}

std::vector<Finding> of_rule(const Judgement& j, const std::string& rule) {
  std::vector<Finding> out;
  for (const auto& f : j.findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

pg::Plan* plan_of(pg::Snapshot& s, const std::string& query_fragment) {
  for (auto& st : s.statements)
    if (st.query.find(query_fragment) != std::string::npos)
      for (auto& p : s.plans)
        if (p.queryid == st.queryid) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE("db.missing_index names orders (customer_id) with HypoPG costs and CONCURRENTLY SQL") {
  auto j = judge(snapshot("missing_index"));
  auto found = of_rule(j, "db.missing_index");
  REQUIRE(found.size() == 1);
  const auto& f = found[0];
  CHECK(f.evidence["table"] == "orders");
  CHECK(f.evidence["columns"] == json::array({"customer_id"}));
  CHECK(f.evidence["cost_source"] == "hypopg");
  CHECK(f.evidence["cost_after"].get<double>() <= f.evidence["cost_before"].get<double>() * 0.5);
  CHECK(f.remediation.sql == "CREATE INDEX CONCURRENTLY ON public.orders (customer_id);");
  CHECK(f.severity == Severity::critical);
  CHECK(f.impact.basis == "db_time");
  CHECK(f.id.size() == 32);
  // The same seq-scanning statement is not reported a second time as a slow query.
  CHECK(of_rule(j, "db.slow_query").empty());
}

TEST_CASE("db.missing_index: never for primary-key lookups") {
  for (const char* scenario : {"missing_index", "n_plus_one", "healthy"}) {
    auto j = judge(snapshot(scenario));
    for (const auto& f : of_rule(j, "db.missing_index")) {
      CAPTURE(scenario);
      CHECK(f.evidence["table"] != "customers");
      CHECK(f.evidence["table"] != "products");
    }
  }
}

TEST_CASE("db.missing_index: a hypothetical index saving less than half is not suggested") {
  auto s = snapshot("missing_index");
  auto* plan = plan_of(s, "customer_id = $1");
  REQUIRE(plan);
  REQUIRE(!plan->what_if.empty());
  plan->what_if[0].cost_after = *plan->total_cost * 0.6;  // only 40 % cheaper
  CHECK(of_rule(judge(s), "db.missing_index").empty());
  // …and the query is then reported for what it is: slow.
  CHECK(of_rule(judge(s), "db.slow_query").size() == 1);
}

TEST_CASE("db.missing_index: with HypoPG the planner must use the hypothetical index") {
  auto s = snapshot("missing_index");
  plan_of(s, "customer_id = $1")->what_if[0].used = false;
  CHECK(of_rule(judge(s), "db.missing_index").empty());
}

TEST_CASE("db.missing_index: without HypoPG the suggestion rests on the plan's selectivity") {
  auto s = snapshot("missing_index");
  s.hypopg = false;
  for (auto& p : s.plans) p.what_if.clear();
  auto found = of_rule(judge(s), "db.missing_index");
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["cost_after"].is_null());
  CHECK(found[0].evidence["cost_source"] == "plan_estimate");
  auto notes = judge(s).notes;
  CHECK(
      std::any_of(notes.begin(), notes.end(), [](auto& n) { return n.find("HypoPG") != std::string::npos; }));
}

TEST_CASE("db.missing_index: an existing index on the column is not suggested again") {
  auto s = snapshot("missing_index");
  s.indexes.push_back(
      {"public", "orders", "orders_customer_id_idx", "btree", {"customer_id"}, false, false, false});
  CHECK(of_rule(judge(s), "db.missing_index").empty());
}

TEST_CASE("db.missing_index: small tables and thresholds from config") {
  auto s = snapshot("missing_index");
  Settings settings;
  settings.rules["db.missing_index"].thresholds["min_table_rows"] = 5e6;  // orders has 1M rows
  CHECK(of_rule(judge(s, settings), "db.missing_index").empty());
  settings.rules["db.missing_index"].thresholds["min_table_rows"] = 1e5;
  auto found = of_rule(judge(s, settings), "db.missing_index");
  REQUIRE(found.size() == 1);
  CHECK(found[0].thresholds["min_table_rows"]["value"] == 1e5);
}

TEST_CASE("db.n_plus_one names the lookup and its parent list query") {
  auto j = judge(snapshot("n_plus_one"));
  auto found = of_rule(j, "db.n_plus_one");
  REQUIRE(found.size() == 1);
  const auto& f = found[0];
  CHECK(f.evidence["query"].get<std::string>().find("FROM products WHERE id = $1") != std::string::npos);
  CHECK(f.evidence["parent_query"].get<std::string>().find("WHERE category_id = $1") != std::string::npos);
  CHECK(f.evidence["calls_per_parent"].get<double>() == doctest::Approx(20).epsilon(0.05));
  CHECK(f.evidence["rows_per_call"].get<double>() <= 1.0);
  CHECK(f.severity == Severity::high);
  // Every statement is indexed: no invented missing index.
  CHECK(of_rule(j, "db.missing_index").empty());
}

TEST_CASE("db.n_plus_one: without a matching parent, calls per transaction decide") {
  auto s = snapshot("n_plus_one");
  for (auto& st : s.statements)
    if (st.query.find("category_id") != std::string::npos)
      st.rows = st.calls * 3;  // parent no longer matches
  auto found = of_rule(judge(s), "db.n_plus_one");
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["parent_query"].is_null());
  CHECK(found[0].evidence["calls_per_xact"].get<double>() > 15);
  // One lookup per transaction is not N+1.
  s.database_end["xact_commit"] = s.database_start["xact_commit"] + 1e9;
  CHECK(of_rule(judge(s), "db.n_plus_one").empty());
}

TEST_CASE("healthy workload: nothing at medium or above") {
  auto j = judge(snapshot("healthy"));
  for (const auto& f : j.findings) {
    CAPTURE(f.rule);
    CHECK(f.severity < Severity::medium);
  }
}

TEST_CASE("db.low_cache_hit fires on a busy database with a poor hit ratio, not on a quiet one") {
  auto s = snapshot("healthy");
  s.database_start["blks_hit"] = 0;
  s.database_start["blks_read"] = 0;
  s.database_end["blks_hit"] = 80000;
  s.database_end["blks_read"] = 20000;
  auto found = of_rule(judge(s), "db.low_cache_hit");
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["hit_ratio"].get<double>() == doctest::Approx(0.8));
  CHECK(found[0].severity == Severity::high);
  s.database_end["blks_hit"] = 800;  // 1k blocks over the window: not busy
  s.database_end["blks_read"] = 200;
  CHECK(of_rule(judge(s), "db.low_cache_hit").empty());
}

TEST_CASE("notes: truncated and young statistics are said") {
  auto s = snapshot("healthy");
  s.pgss_dealloc = 42;
  s.window_s = 0;
  s.stats_age_s = 120;
  auto notes = judge(s).notes;
  auto has = [&](const char* text) {
    return std::any_of(notes.begin(), notes.end(),
                       [&](auto& n) { return n.find(text) != std::string::npos; });
  };
  CHECK(has("evicted 42 entries"));
  CHECK(has("only the last 120 s"));
}

TEST_CASE("finding ids are stable fingerprints of rule and subject") {
  auto a = of_rule(judge(snapshot("missing_index")), "db.missing_index");
  auto s = snapshot("missing_index");
  for (auto& st : s.statements) st.queryid += 7;  // another server: other OIDs, other queryids
  for (auto& p : s.plans) p.queryid += 7;
  auto b = of_rule(judge(s), "db.missing_index");
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].id == b[0].id);
  auto n1 = of_rule(judge(snapshot("n_plus_one")), "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].id != a[0].id);
}

TEST_CASE(
    "db.slow_query: a slow scan from one client counts in a window, the 100-call floor when cumulative") {
  // cold_buffers: one client scans archive, 11 calls of 440 ms in a 6 s window (#23: was "info").
  auto s = snapshot("cold_buffers");
  REQUIRE(s.window_s > 0);
  auto slow = of_rule(judge(s), "db.slow_query");
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].evidence["calls"] == 11);
  CHECK(slow[0].evidence["busy_ms_per_s"].get<double>() >= 200);
  CHECK(slow[0].severity == Severity::high);
  // The same counters as one cumulative snapshot: 11 calls are under PgHero's 100; still dominant and
  // slow per call, so medium.
  s.window_s = 0;
  slow = of_rule(judge(s), "db.slow_query");
  REQUIRE(slow.size() == 1);
  CHECK(!slow[0].evidence.contains("busy_ms_per_s"));
  CHECK(slow[0].severity == Severity::medium);
  for (auto& st : s.statements)
    if (st.query.find("archive") != std::string::npos) {
      st.total_exec_ms = st.total_exec_ms / st.calls * 100;
      st.calls = 100;  // the floor, inclusive
    }
  slow = of_rule(judge(s), "db.slow_query");
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].severity == Severity::high);
}

TEST_CASE("db.slow_query: in a window the busy-time floor is inclusive and scales with the window") {
  auto s = snapshot("cold_buffers");
  Settings quiet;  // dominance out of the way: only the slow-per-call path
  quiet.rules["db.slow_query"].thresholds["dominant_db_time_share"] = 1.01;
  double total = 0;
  for (const auto& st : s.statements)
    if (st.query.find("archive") != std::string::npos) total = st.total_exec_ms;
  REQUIRE(total > 0);
  s.window_s = total / 200;  // exactly 200 ms/s
  CHECK(of_rule(judge(s, quiet), "db.slow_query").size() == 1);
  s.window_s = total / 199;  // a longer window: 199 ms/s
  CHECK(of_rule(judge(s, quiet), "db.slow_query").empty());
}
