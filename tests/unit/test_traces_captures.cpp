// The diagnosis on real traces: the captures of tests/workloads/node (instrumented Node.js services
// against PostgreSQL and Redis, exported by the OpenTelemetry SDK and zipkin-js), judged against
// what a careful engineer reads in them (captures/expected.json, written with the workloads).
#include <doctest/doctest.h>

#include <fstream>

#include <fmt/format.h>

#include "harness.hpp"
#include "probes/traces/normalize.hpp"

using namespace cp;
using json = nlohmann::ordered_json;

namespace {

const std::string kCaptures = "/tests/workloads/node/captures/";

json expected() {
  std::ifstream in(test::source_dir() + kCaptures + "expected.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// The rule each expected pattern is reported by.
std::string rule_of(const std::string& pattern) {
  static const std::map<std::string, std::string> rules = {
      {"n_plus_one", "db.n_plus_one"},
      {"repeated_identical", "db.repeated_identical_query"},
      {"sequential_external_calls", "net.sequential_external_calls"},
      {"concurrent_fanout_capped", "net.capped_concurrency"},
      {"concurrent_fanout", "net.capped_concurrency"},
      {"repeated_external_call", "net.repeated_external_call"},
      {"slow_external_call", "net.slow_external_call"},
      {"self_time", "code.self_time_hotspot"},
      {"slow_query", "db.slow_query"},
      {"timeout_locus", "db.slow_query"},
      {"network_link", "net.link_latency"},
  };
  auto it = rules.find(pattern);
  return it == rules.end() ? "" : it->second;
}

struct Judged {
  std::string scenario, file;
  json expect, report;
};

// Every capture of every scenario, diagnosed by the binary (schema-checked on the way).
const std::vector<Judged>& judged() {
  static const std::vector<Judged> all = [] {
    std::vector<Judged> out;
    json e = expected();
    for (const auto& [scenario, expect] : e["scenarios"].items())
      for (const auto& file : expect["files"]) {
        auto run =
            test::diagnose_json({"--traces", test::source_dir() + kCaptures + file.get<std::string>()});
        CHECK_MESSAGE(run.schema_errors.empty(), file);
        CHECK_MESSAGE(run.exit_code == 0, file << ": " << run.stderr_text);
        out.push_back({scenario, file.get<std::string>(), expect, run.report});
      }
    return out;
  }();
  return all;
}

std::vector<json> findings_of(const Judged& j, const std::string& rule) {
  return test::findings_of(j.report, rule);
}

// The captures of one scenario (each format): a scenario missing from expected.json fails, rather
// than leaving its checks unrun.
std::vector<const Judged*> captures_of(const std::string& scenario) {
  std::vector<const Judged*> out;
  for (const auto& j : judged())
    if (j.scenario == scenario) out.push_back(&j);
  REQUIRE_MESSAGE(!out.empty(), "no capture of " << scenario);
  return out;
}

}  // namespace

TEST_CASE("captures: the verdict's category is the careful engineer's, in every capture") {
  REQUIRE(judged().size() >= 19);
  for (const auto& j : judged()) {
    CAPTURE(j.file);
    CAPTURE(j.report["verdict"]["headline"]);
    CHECK(j.report["verdict"]["category"] == j.expect["category"]);
  }
}

TEST_CASE(
    "captures: the expected pattern is reported in the expected service, and the excluded ones are not") {
  for (const auto& j : judged()) {
    CAPTURE(j.file);
    for (const auto& excluded : j.expect["must_not"]) {
      std::string not_rule = rule_of(excluded);
      if (not_rule.empty() || not_rule == rule_of(j.expect["pattern"])) continue;
      CHECK_MESSAGE(findings_of(j, not_rule).empty(), not_rule);
    }
    if (j.expect["pattern"] == "none") continue;  // a baseline: the fixed twin of another scenario
    std::string rule = rule_of(j.expect["pattern"]);
    REQUIRE(!rule.empty());
    auto found = findings_of(j, rule);
    REQUIRE_MESSAGE(!found.empty(), rule);
    if (j.expect.contains("severity"))
      for (const auto& f : found) CHECK(f["severity"] == j.expect["severity"]);
    std::string service = j.expect["locus"]["service"];
    bool in_service = false;
    for (const auto& f : found) in_service |= f["component"] == "traces:" + service;
    // A slow link is named by its callee, the caller beside it.
    if (rule == "net.link_latency")
      for (const auto& f : found)
        in_service |=
            f["evidence"]["caller"] == service && f["evidence"]["callee"] == j.expect["locus"]["callee"];
    // A slow third party is named by the dependency itself (external:host), called from the service.
    if (rule == "net.slow_external_call")
      for (const auto& f : found) in_service |= f["component"].get<std::string>().rfind("external:", 0) == 0;
    CHECK_MESSAGE(in_service, rule << " in " << service);
  }
}

TEST_CASE("must hold on the captures: serial and capped fan-out of the same calls get different answers") {
  for (const auto& j : judged()) {
    if (j.scenario != "fanout_serial" && j.scenario != "fanout_concurrent") continue;
    CAPTURE(j.file);
    auto sequential = findings_of(j, "net.sequential_external_calls");
    auto capped = findings_of(j, "net.capped_concurrency");
    if (j.scenario == "fanout_serial") {
      REQUIRE(sequential.size() == 1);
      CHECK(capped.empty());
      CHECK(sequential[0]["evidence"]["calls"].get<double>() >= 9);
    } else {
      REQUIRE(capped.size() == 1);
      CHECK(sequential.empty());
      CHECK(capped[0]["evidence"]["concurrency"] == j.expect["locus"]["max_in_flight"]);
      // The wall time it holds, not the durations summed: about 4 rounds of 10 calls, 3 at a time.
      double held = capped[0]["evidence"]["time_per_request_ms"];
      double summed = capped[0]["evidence"]["summed_ms_per_request"];
      CHECK(held < 0.6 * summed);
    }
  }
}

TEST_CASE("must hold on the captures: an N+1 whose parent span is missing is found") {
  for (const auto& j : judged()) {
    if (j.scenario != "n_plus_one_orphan") continue;
    CAPTURE(j.file);
    auto n1 = findings_of(j, "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0]["evidence"]["repetitions_per_request"].get<double>() >= 12);
    CHECK(n1[0]["evidence"]["repetitions_per_request"].get<double>() <= 13);  // Zipkin: no statement text
    if (j.file.find("otlp") != std::string::npos)
      CHECK(n1[0]["evidence"]["query"] ==
            traces::normalize_statement(j.expect["locus"]["statement"].get<std::string>()));
  }
}

TEST_CASE(
    "must hold on the captures: a CPU-bound callee makes it code in that service, a database wait database") {
  for (const auto& j : judged()) {
    CAPTURE(j.file);
    if (j.scenario == "callee_cpu_bound") {
      auto code = findings_of(j, "code.self_time_hotspot");
      REQUIRE(code.size() == 1);
      CHECK(code[0]["evidence"]["service"] == "recommendations");
      CHECK(j.report["verdict"]["headline"].get<std::string>().find("recommendations") != std::string::npos);
    } else if (j.scenario == "callee_db_wait") {
      auto slow = findings_of(j, "db.slow_query");
      REQUIRE(!slow.empty());
      CHECK(slow[0]["evidence"]["service"] == "reporting");
      if (j.file.find("otlp") != std::string::npos)
        CHECK(slow[0]["evidence"]["query"] ==
              traces::normalize_statement(j.expect["locus"]["statement"].get<std::string>()));
    } else {
      continue;
    }
    CHECK(test::findings_of(j.report, "net.slow_external_call").empty());
  }
}

TEST_CASE("must hold on the captures: the proxy timeout names the service under the proxy, not the proxy") {
  for (const auto& j : judged()) {
    if (j.scenario != "proxy_timeout") continue;
    CAPTURE(j.file);
    std::string headline = j.report["verdict"]["headline"];
    CHECK(headline.find("reporting") != std::string::npos);
    CHECK(headline.find("gateway") == std::string::npos);
    auto slow = findings_of(j, "db.slow_query");
    REQUIRE(!slow.empty());
    CHECK(slow[0]["component"] == "traces:reporting");
    CHECK(slow[0]["evidence"]["timeouts_consumed"].get<double>() > 0);
    if (j.file.find("otlp") != std::string::npos)
      CHECK(slow[0]["evidence"]["query"] ==
            traces::normalize_statement(j.expect["locus"]["statement"].get<std::string>()));
    for (const auto& f : j.report["findings"]) CHECK(f["component"] != "traces:gateway");
  }
}

TEST_CASE("must hold on the captures: no finding claims more time per request than its request's p99") {
  for (const auto& j : judged()) {
    CAPTURE(j.file);
    for (const auto& f : j.report["findings"]) {
      const auto& e = f["evidence"];
      if (!e.contains("time_per_request_ms") || !e.contains("route")) continue;
      std::string entry = e.contains("entry_service") ? e["entry_service"] : e["service"];
      bool checked = false;
      for (const auto& b : j.report["breakdowns"])
        if (b["route"] == e["route"] && b["service"] == entry) {
          CAPTURE(f["title"]);
          CHECK(e["time_per_request_ms"].get<double>() <= b["p99_ms"].get<double>() * 1.001);
          checked = true;
        }
      CHECK_MESSAGE(checked, f["title"]);
      if (f["impact"]["basis"] == "request_time") CHECK(f["impact"]["share"].get<double>() <= 1.0);
    }
  }
}

TEST_CASE("captures: each entry route's breakdown adds up and names the services on its path") {
  for (const auto& j : judged()) {
    CAPTURE(j.file);
    REQUIRE(!j.report["breakdowns"].empty());
    const auto& b = j.report["breakdowns"][0];
    double sum = 0;
    for (const auto& [k, v] : b["shares"].items()) sum += v.get<double>();
    CHECK(sum == doctest::Approx(1.0).epsilon(0.001));
    if (!j.expect["entry"].value("entry_spans_missing", false))
      CHECK(b["service"] == j.expect["entry"]["service"]);
    std::string locus = j.expect["locus"]["service"];
    bool on_path = false;
    for (const auto& svc : b["services"]) on_path |= svc["service"] == locus;
    CHECK(on_path);
  }
}

// #22: traces right on everyone's traces — the captures of other stacks' instrumentation.

TEST_CASE(
    "must hold on the captures: a flat-parented N+1 (calls beside a covering sibling) is found, verdict "
    "database") {
  for (const Judged* capture : captures_of("flat_parent_n_plus_one")) {
    const Judged& j = *capture;
    CAPTURE(j.file);
    CHECK(j.report["verdict"]["category"] == "database");
    auto n1 = findings_of(j, "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0]["evidence"]["query"] ==
          traces::normalize_statement(j.expect["locus"]["statement"].get<std::string>()));
    CHECK(n1[0]["evidence"]["parent"] == "process_action");  // adopted by the span that covers them
    CHECK(n1[0]["evidence"]["shape"] == "serial");
    CHECK(test::findings_of(j.report, "code.self_time_hotspot").empty());
  }
}

TEST_CASE("must hold on the captures: placeholders never yield \"same parameters\"") {
  for (const char* scenario : {"placeholder_n_plus_one", "orm_lazy_n_plus_one"})
    for (const Judged* capture : captures_of(scenario)) {
      const Judged& j = *capture;
      CAPTURE(j.file);
      CHECK(findings_of(j, "db.repeated_identical_query").empty());
      for (const auto& f : j.report["findings"])
        CHECK(f["title"].get<std::string>().find("same parameters") == std::string::npos);
      auto n1 = findings_of(j, "db.n_plus_one");
      REQUIRE(n1.size() == 1);
      CHECK(n1[0]["evidence"]["repetitions_per_request"].get<double>() >= 12);
    }
}

TEST_CASE("must hold on the captures: an ORM's span over its driver's is one query, not two") {
  for (const Judged* capture : captures_of("orm_lazy_n_plus_one")) {
    const Judged& j = *capture;
    auto n1 = findings_of(j, "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0]["evidence"]["repetitions_per_request"].get<double>() == doctest::Approx(12).epsilon(0.05));
  }
}

TEST_CASE("must hold on the captures: the route-less service's N+1 names its templated route") {
  for (const Judged* capture : captures_of("routeless_n_plus_one")) {
    const Judged& j = *capture;
    auto n1 = findings_of(j, "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0]["evidence"]["route"] == "/orders/{id}/lines");
    CHECK(j.report["breakdowns"][0]["route"] == "/orders/{id}/lines");
  }
}

TEST_CASE(
    "must hold on the captures: a delayed link between two services is a network finding naming the callee") {
  REQUIRE(captures_of("delayed_link").size() == 2);  // OTLP and Zipkin
  for (const Judged* capture : captures_of("delayed_link")) {
    const Judged& j = *capture;
    CAPTURE(j.file);
    CHECK(j.report["verdict"]["category"] == "network");
    auto link = findings_of(j, "net.link_latency");
    REQUIRE(link.size() == 1);
    CHECK(link[0]["component"] == "traces:pricing");
    CHECK(link[0]["evidence"]["callee"] == "pricing");
    CHECK(link[0]["evidence"]["caller"] == "cart");
    CHECK(link[0]["evidence"]["gap_p95_ms"].get<double>() >= 150);  // the proxy delays 200 ms
  }
}

TEST_CASE(
    "must hold on the captures: concurrent resolvers' lookups are an N+1, their DataLoader twin is not") {
  for (const Judged* j : captures_of("graphql_resolver_n_plus_one")) {
    CHECK(j->report["verdict"]["category"] == "database");
    auto n1 = findings_of(*j, "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0]["evidence"]["shape"] != "serial");
    CHECK(n1[0]["evidence"]["repetitions_per_request"].get<double>() == 12);
  }
  for (const Judged* j : captures_of("graphql_dataloader")) CHECK(findings_of(*j, "db.n_plus_one").empty());
}

TEST_CASE("must hold on the captures: a cheap N+1 is low, and fails a baseline gate once introduced") {
  for (std::string format : {"otlp.jsonl", "zipkin.json"}) {
    CAPTURE(format);
    std::string dir = test::source_dir() + kCaptures;
    auto fixed = test::diagnose_json({"--traces", dir + "cheap_n_plus_one_fixed." + format});
    auto cheap = test::diagnose_json({"--traces", dir + "cheap_n_plus_one." + format});
    REQUIRE(fixed.exit_code == 0);
    REQUIRE(cheap.exit_code == 0);
    auto n1 = test::findings_of(cheap.report, "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0]["severity"] == "low");
    CHECK(test::findings_of(fixed.report, "db.n_plus_one").empty());
    std::string baseline = test::write_temp("cheap-baseline.json", fixed.report.dump());
    std::string same = test::write_temp("cheap-same.json", cheap.report.dump());
    // The N+1 appears: the gate fails on it, though it is cheap.
    auto introduced = test::diagnose_json(
        {"--traces", dir + "cheap_n_plus_one." + format, "--baseline", baseline, "--fail-on", "low"});
    CHECK(introduced.exit_code == 1);
    auto gated = test::findings_of(introduced.report, "db.n_plus_one");
    REQUIRE(gated.size() == 1);
    CHECK(gated[0]["baseline"] == "new");
    // Already there in the baseline: the same id, not new, the gate passes.
    auto old = test::diagnose_json(
        {"--traces", dir + "cheap_n_plus_one." + format, "--baseline", same, "--fail-on", "low"});
    CHECK(old.exit_code == 0);
  }
}

TEST_CASE(
    "must hold on the captures: a per-item publish to a broker is a repeated call naming the destination") {
  for (const Judged* capture : captures_of("rabbitmq_publish")) {
    const Judged& j = *capture;
    CHECK(j.report["verdict"]["category"] == "network");
    auto repeated = findings_of(j, "net.repeated_external_call");
    REQUIRE(repeated.size() == 1);
    CHECK(repeated[0]["evidence"]["host"].get<std::string>().find("shipments") != std::string::npos);
    CHECK(repeated[0]["evidence"]["repetitions_per_request"].get<double>() == 10);
  }
}

TEST_CASE("the README's recipe: [rules.\"db.n_plus_one\"] level = \"error\" fails on a new N+1 only") {
  std::string dir = test::source_dir() + kCaptures;
  auto fixed = test::diagnose_json({"--traces", dir + "cheap_n_plus_one_fixed.otlp.jsonl"});
  auto cheap = test::diagnose_json({"--traces", dir + "cheap_n_plus_one.otlp.jsonl"});
  std::string config = test::write_temp(
      "n1-gate.toml", "[rules.\"db.n_plus_one\"]\nlevel = \"error\"\n[gate]\nfail_on = \"high\"\n");
  std::string before = test::write_temp("n1-before.json", fixed.report.dump());
  std::string after = test::write_temp("n1-after.json", cheap.report.dump());
  auto introduced = test::diagnose_json(
      {"--traces", dir + "cheap_n_plus_one.otlp.jsonl", "--baseline", before, "--config", config});
  CHECK(introduced.exit_code == 1);
  auto kept = test::diagnose_json(
      {"--traces", dir + "cheap_n_plus_one.otlp.jsonl", "--baseline", after, "--config", config});
  CHECK(kept.exit_code == 0);
}

// #23: a finding says how many requests it rests on; no capture has requests cut by its edges.
TEST_CASE("captures: every traces finding carries the requests it rests on") {
  for (const auto& j : judged()) {
    CAPTURE(j.file);
    for (const auto& f : j.report["findings"]) {
      CAPTURE(f["title"]);
      CHECK(f["evidence"].contains("requests"));
      bool rootless_route = f["evidence"].value("route", "") == "(missing span)";
      if (rootless_route) CHECK(f["evidence"]["requests"].get<double>() >= 5);
    }
    for (const auto& p : j.report["probes"])
      for (const auto& note : p["notes"])
        CHECK(note.get<std::string>().find("lost their root span at the window's edges") ==
              std::string::npos);
  }
}
