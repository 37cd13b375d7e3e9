// src/core/reconcile.cpp: client and server views of one statement, one finding per fact.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "core/catalog.hpp"
#include "core/gate.hpp"
#include "core/reconcile.hpp"
#include "core/rule_spec.hpp"
#include "harness.hpp"
#include "traces_support.hpp"

using namespace cp;

namespace {

const char* kLookup = "SELECT id, name FROM products WHERE id = $1";

Finding rule_finding(const char* rule, const char* probe, const std::string& subject, Severity s) {
  RuleParams p(*find_rule(rule), {});
  Finding f = p.make_finding(subject);
  f.probe = probe;
  f.target = probe == std::string("postgres") ? "postgres:shop" : "traces:otlp";
  f.severity = s;
  f.title = std::string(rule) + " from " + probe;
  return f;
}

// A traces N+1 on the lookup: 12 calls per request costing 50 ms of a 70 ms request.
Finding traced_n_plus_one() {
  Finding f = rule_finding("db.n_plus_one", "traces", "traces/lookup", Severity::critical);
  f.evidence = {{"query", kLookup},
                {"datastore", "postgresql"},
                {"repetitions_per_request", 12},
                {"requests", 20},
                {"time_per_request_ms", 50.0},
                {"request_share", 0.71}};
  f.impact = {0.71, "request_time"};
  return f;
}

Finding traced_slow_query() {
  Finding f = rule_finding("db.slow_query", "traces", "traces/lookup-slow", Severity::high);
  f.evidence = {{"query", kLookup}, {"datastore", "postgresql"}, {"calls", 240}, {"mean_ms", 51.0}};
  f.impact = {0.9, "db_time"};
  return f;
}

ProbeView client_view(double mean_ms, ProcessIdentity who = {}) {
  CrossCheck c;
  c.statements.push_back({"postgresql", "SELECT id, name FROM products WHERE id = ?", 240, 240 * mean_ms, false, who});
  c.attributed_ms = 20 * 70.0;
  return {"traces", "traces:otlp", c};
}

ProbeView server_view(double mean_ms) {
  CrossCheck c;
  c.statements.push_back({"postgresql", "select id, name\n  from products where id = $1;", 205, 205 * mean_ms, true, {}});
  return {"postgres", "postgres:shop", c};
}

ProbeView host_view(const std::string& pid, double share, const std::string& finding_id) {
  CrossCheck c;
  c.stalls.push_back({{pid, "box", ""}, share, finding_id, "infra.cpu_throttling"});
  return {"host", "pid:" + pid, c};
}

Report report_with(std::vector<Finding> findings) {
  Report r;
  r.findings = std::move(findings);
  r.probes = {{"traces", "traces:otlp"}, {"postgres", "postgres:shop"}, {"host", "pid:42"}};
  return r;
}

const Finding* find(const Report& r, const std::string& rule, const std::string& probe = "") {
  for (const auto& f : r.findings)
    if (f.rule == rule && (probe.empty() || f.probe == probe)) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("statement keys: parameters, case, spaces and a trailing semicolon set aside") {
  CHECK(statement_key("SELECT a FROM t WHERE id = $1") == statement_key("select a\n  from t where id = ?;"));
  CHECK(statement_key("UPDATE t SET a = :a WHERE id = :id") == "update t set a = ? where id = ?");
  CHECK(statement_key("SELECT a::int FROM t") == "select a::int from t");  // a cast is no parameter
  CHECK(statement_key("SELECT 1 FROM t WHERE a = 1") != statement_key("SELECT 1 FROM u WHERE a = 1"));
  CHECK(datastore_family("postgres") == "postgresql");
  CHECK(datastore_family("MariaDB") == "mysql");
}

TEST_CASE("a throttled client: its slow query is withdrawn, its N+1 restated, the time moves to the process") {
  Finding stall = rule_finding("infra.cpu_throttling", "host", "cpu-throttling/shop", Severity::critical);
  stall.category = Category::infrastructure;
  auto r = report_with({traced_slow_query(), traced_n_plus_one(), stall});
  std::map<Category, double> attribution = {{Category::database, 0.8}, {Category::code, 0.2}};
  reconcile(r, {client_view(51.0, {"42", "box", ""}), server_view(0.2), host_view("42", 1.0, stall.id)},
            attribution);

  CHECK(find(r, "db.slow_query") == nullptr);
  const auto& notes = r.probes[0].notes;
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("db.slow_query withdrawn") != std::string::npos);
  CHECK(notes[0].find("pid 42") != std::string::npos);

  const Finding* n1 = find(r, "db.n_plus_one");
  REQUIRE(n1);
  CHECK(n1->evidence["server_mean_ms"] == doctest::Approx(0.2));
  CHECK(n1->evidence["client_mean_ms"] == doctest::Approx(51.0));
  CHECK(n1->evidence["elsewhere_finding"] == stall.id);
  // 50 ms x 0.2 / 51 = 0.2 ms per request: below every cost floor, reported on its count alone.
  CHECK(n1->severity == Severity::low);
  CHECK(n1->evidence["time_per_request_ms"].get<double>() < 0.5);

  CHECK(attribution[Category::database] < 0.1);
  CHECK(attribution[Category::infrastructure] > 0.8);
  const Finding* throttled = find(r, "infra.cpu_throttling");
  REQUIRE(throttled);
  REQUIRE(throttled->evidence.contains("slowed_statements"));
  CHECK(throttled->evidence["slowed_statements"][0]["server_mean_ms"] == doctest::Approx(0.2));
}

TEST_CASE("client time the server confirms: nothing is restated") {
  auto r = report_with({traced_slow_query()});
  std::map<Category, double> attribution = {{Category::database, 0.8}};
  reconcile(r, {client_view(51.0), server_view(49.0)}, attribution);
  REQUIRE(find(r, "db.slow_query"));
  CHECK_FALSE(find(r, "db.slow_query")->evidence.contains("server_mean_ms"));
  CHECK(attribution[Category::database] == doctest::Approx(0.8));
}

TEST_CASE("no host probe: the gap is named, not blamed on a process, and the slow query still withdrawn") {
  auto r = report_with({traced_slow_query(), traced_n_plus_one()});
  std::map<Category, double> attribution = {{Category::database, 0.8}};
  reconcile(r, {client_view(51.0), server_view(0.2)}, attribution);
  CHECK(find(r, "db.slow_query") == nullptr);
  CHECK(r.probes[0].notes.at(0).find("network or a wait for a pooled connection") != std::string::npos);
  CHECK(attribution.count(Category::infrastructure) == 0);
  CHECK(attribution[Category::database] < 0.1);
}

TEST_CASE("spans naming another process are not matched with the watched one") {
  Finding stall = rule_finding("infra.cpu_throttling", "host", "cpu-throttling/other", Severity::critical);
  auto r = report_with({traced_n_plus_one(), stall});
  std::map<Category, double> attribution = {{Category::database, 0.8}};
  reconcile(r, {client_view(51.0, {"7", "box", ""}), server_view(0.2), host_view("42", 1.0, stall.id)},
            attribution);
  CHECK_FALSE(find(r, "db.n_plus_one")->evidence.contains("elsewhere_finding"));
  CHECK(attribution.count(Category::infrastructure) == 0);
}

TEST_CASE("the same N+1 from pg_stat_statements and from the traces is one finding seen by both") {
  Finding server = rule_finding("db.n_plus_one", "postgres", "lookup", Severity::high);
  server.evidence = {{"query", kLookup}, {"calls_per_parent", 40.0}, {"mean_ms", 0.05}};
  Finding client = traced_n_plus_one();
  client.severity = Severity::high;
  auto r = report_with({client, server});
  std::map<Category, double> attribution;
  reconcile(r, {}, attribution);
  REQUIRE(r.findings.size() == 1);
  const Finding& merged = r.findings[0];
  CHECK(merged.probe == "postgres");  // a tie: the datastore's own view keeps its id
  CHECK(merged.id == server.id);
  REQUIRE(merged.seen_by.size() == 2);
  CHECK(merged.seen_by[0].probe == "postgres");
  CHECK(merged.seen_by[1].probe == "traces");
  CHECK(merged.seen_by[1].id == client.id);
  CHECK(merged.seen_by[1].evidence["repetitions_per_request"] == 12);

  SUBCASE("the gate matches a baseline holding either probe's id") {
    Report baseline;
    baseline.findings = {client};  // an earlier run with the traces alone
    Report now = r;
    GateOptions options;
    options.baseline = &baseline;
    apply_gate(now, options);
    CHECK(now.findings[0].baseline == "unchanged");
    CHECK(now.gate.baseline.resolved_ids.empty());
  }
}

TEST_CASE("findings of different rules about one statement are linked") {
  Finding index = rule_finding("db.missing_index", "postgres", "orders(customer_id)", Severity::critical);
  index.evidence = {{"table", "orders"}, {"statements", json::array({{{"query", "SELECT * FROM orders WHERE customer_id = $1"}}})}};
  Finding loop = rule_finding("db.n_plus_one", "traces", "traces/orders", Severity::medium);
  loop.evidence = {{"query", "SELECT * FROM orders WHERE customer_id = ?"}, {"datastore", "postgresql"}};
  auto r = report_with({index, loop});
  std::map<Category, double> attribution;
  reconcile(r, {}, attribution);
  REQUIRE(r.findings.size() == 2);
  CHECK(find(r, "db.missing_index")->related == std::vector<std::string>{loop.id});
  CHECK(find(r, "db.n_plus_one")->related == std::vector<std::string>{index.id});
}

TEST_CASE("a slow query the spans saw on a statement a missing index explains is that index's finding") {
  Finding index = rule_finding("db.missing_index", "postgres", "orders(customer_id)", Severity::critical);
  index.evidence = {{"table", "orders"}, {"statements", json::array({{{"query", "SELECT * FROM orders WHERE customer_id = $1"}}})}};
  Finding slow = rule_finding("db.slow_query", "otlp", "traces/orders", Severity::high);
  slow.evidence = {{"query", "SELECT * FROM orders WHERE customer_id = $1"}, {"datastore", "postgresql"}};
  Finding other = rule_finding("db.slow_query", "otlp", "traces/other", Severity::medium);
  other.evidence = {{"query", "SELECT * FROM invoices"}, {"datastore", "postgresql"}};
  auto r = report_with({index, slow, other});
  std::map<Category, double> attribution;
  reconcile(r, {}, attribution);
  REQUIRE(r.findings.size() == 2);
  const Finding* merged = find(r, "db.missing_index");
  REQUIRE(merged);
  REQUIRE(merged->seen_by.size() == 2);
  CHECK(merged->seen_by[1].probe == "otlp");
  CHECK(merged->seen_by[1].rule == "db.slow_query");
  CHECK(merged->seen_by[1].severity == Severity::high);
  CHECK(find(r, "db.slow_query")->id == other.id);  // another statement: its own finding
}

TEST_CASE("spans naming no process: the one watched process, even with two stalls of it") {
  Finding throttled = rule_finding("infra.cpu_throttling", "host", "cpu-throttling/shop", Severity::critical);
  Finding saturated = rule_finding("infra.cpu_saturation", "host", "cpu-saturation/box", Severity::medium);
  CrossCheck host;
  host.stalls.push_back({{"42", "box", ""}, 0.9, throttled.id, "infra.cpu_throttling"});
  host.stalls.push_back({{"42", "box", ""}, 0.2, saturated.id, "infra.cpu_saturation"});
  auto r = report_with({traced_n_plus_one(), throttled, saturated});
  std::map<Category, double> attribution = {{Category::database, 0.8}};
  reconcile(r, {client_view(51.0), server_view(0.2), {"host", "pid:42", host}}, attribution);
  CHECK(find(r, "db.n_plus_one")->evidence["elsewhere_finding"] == throttled.id);

  SUBCASE("two watched processes: no guess") {
    host.stalls[1].process.pid = "43";
    auto r2 = report_with({traced_n_plus_one(), throttled, saturated});
    std::map<Category, double> a2 = {{Category::database, 0.8}};
    reconcile(r2, {client_view(51.0), server_view(0.2), {"host", "pids", host}}, a2);
    CHECK_FALSE(find(r2, "db.n_plus_one")->evidence.contains("elsewhere_finding"));
  }
}

TEST_CASE("the same slow dependency from the --http probe and the traces is one finding") {
  Finding timed = rule_finding("net.slow_external_call", "http", "api.carrier.test", Severity::high);
  timed.category = Category::network;
  timed.evidence = {{"host", "API.carrier.test:443"}, {"p95_ms", 900}};
  Finding traced = rule_finding("net.slow_external_call", "traces", "traces/api.carrier.test", Severity::high);
  traced.category = Category::network;
  traced.evidence = {{"host", "api.carrier.test:443"}, {"requests", 40}};
  Finding errors = rule_finding("net.external_errors", "traces", "traces/errors", Severity::medium);
  errors.category = Category::network;
  errors.evidence = {{"host", "api.carrier.test:443"}};
  auto r = report_with({traced, timed, errors});
  std::map<Category, double> attribution;
  reconcile(r, {}, attribution);
  REQUIRE(r.findings.size() == 2);
  const Finding* slow = find(r, "net.slow_external_call");
  CHECK(slow->probe == "http");
  REQUIRE(slow->seen_by.size() == 2);
  CHECK(slow->seen_by[1].probe == "traces");
  CHECK(find(r, "net.external_errors")->related == std::vector<std::string>{timed.id});
}

TEST_CASE("the traces name the process each service's spans came from (OTLP resource)") {
  // process.pid is an intValue (a string in OTLP/JSON); the protobuf reader's int is compared with
  // this one in test_otlp.cpp ("protobuf reader: the same spans as the JSON reader").
  std::ifstream in(test::source_dir() + "/tests/fixtures/traces/otlp_resource_process.json");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  traces::Snapshot s = test::assemble_text(doc);
  REQUIRE(s.processes.size() == 1);
  CHECK(s.processes[0].service == "shop");
  CHECK(s.processes[0].pid == "4242");
  CHECK(s.processes[0].host == "box");
  CHECK(s.processes[0].container == "abc123");
}
