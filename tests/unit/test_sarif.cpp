// `--format sarif`: valid against the SARIF 2.1.0 schema, one result per finding, the catalogue as
// the tool's rules, and a file/line annotation where the spans recorded their source location.
#include <doctest/doctest.h>

#include <fstream>

#include <fmt/format.h>

#include "core/catalog.hpp"
#include "harness.hpp"
#include "json_schema.hpp"
#include "probes/traces/normalize.hpp"
#include "probes/traces/readers.hpp"

using namespace cp::test;
using ojson = nlohmann::ordered_json;

namespace {

struct SarifRun {
  int exit_code = -1;
  ojson doc;
  std::string err;
};

SarifRun diagnose_sarif(std::vector<std::string> args) {
  args.insert(args.begin(), {chokepoint_bin(), "diagnose"});
  args.insert(args.end(), {"--format", "sarif"});
  RunResult r = run(args);
  SarifRun out{r.exit_code, ojson::parse(r.out, nullptr, false), r.err};
  REQUIRE_MESSAGE(!out.doc.is_discarded(), "not JSON: " << r.out.substr(0, 200) << r.err);
  auto errors = sarif_schema().validate(out.doc);
  for (const auto& e : errors) INFO(e);
  CHECK_MESSAGE(errors.empty(), fmt::format("{} SARIF schema violations, first: {}", errors.size(),
                                            errors.empty() ? "" : errors.front()));
  return out;
}

std::vector<ojson> results_of(const ojson& doc, const std::string& rule) {
  std::vector<ojson> out;
  for (const auto& r : doc["runs"][0]["results"])
    if (r["ruleId"] == rule) out.push_back(r);
  return out;
}

const ojson* result_in(const std::vector<ojson>& results, const std::string& function) {
  for (const auto& r : results)
    for (const auto& l : r["locations"][0]["logicalLocations"])
      if (l["kind"] == "function" && l["name"] == function) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("the SARIF schema check can fail: a log without version or with a bad level is rejected") {
  ojson doc = {{"version", "2.1.0"}, {"runs", ojson::array({{{"tool", {{"driver", {{"name", "x"}}}}}}})}};
  CHECK(sarif_schema().validate(doc).empty());
  ojson no_version = doc;
  no_version.erase("version");
  CHECK(!sarif_schema().validate(no_version).empty());
  ojson bad_level = doc;
  bad_level["runs"][0]["results"] = {{{"message", {{"text", "t"}}}, {"level", "fatal"}}};
  CHECK(!sarif_schema().validate(bad_level).empty());
  ojson bad_line = doc;
  bad_line["runs"][0]["results"] = {
      {{"message", {{"text", "t"}}},
       {"locations",
        {{{"physicalLocation",
           {{"artifactLocation", {{"uri", "a.js"}}}, {"region", {{"startLine", 0}}}}}}}}}};
  CHECK(!sarif_schema().validate(bad_line).empty());
}

TEST_CASE(
    "SARIF: an N+1 is annotated on the source line its query spans recorded (both code.* generations)") {
  std::string traces = fixture_path("traces/otlp_n_plus_one_code.json");
  auto json_run = diagnose_json({"--traces", traces});
  REQUIRE(json_run.schema_errors.empty());
  auto n1 = findings_of(json_run.report, "db.n_plus_one");
  REQUIRE(n1.size() == 2);

  auto sarif = diagnose_sarif({"--traces", traces});
  CHECK(sarif.exit_code == 0);
  const ojson& run = sarif.doc["runs"][0];
  CHECK(run["results"].size() == json_run.report["findings"].size());
  auto results = results_of(sarif.doc, "db.n_plus_one");
  REQUIRE(results.size() == 2);

  struct Expected {
    std::string function, file;
    int line;
    std::string route;
  };
  for (const Expected& e :
       {Expected{"listOrders", "src/routes/orders.js", 42, "/orders"},
        Expected{"customerOrders", "src/routes/customers.js", 17, "/customers/:id/orders"}}) {
    CAPTURE(e.function);
    const ojson* r = result_in(results, e.function);
    REQUIRE(r != nullptr);
    const ojson& physical = (*r)["locations"][0]["physicalLocation"];
    CHECK(physical["artifactLocation"]["uri"] == e.file);
    CHECK(physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
    CHECK(physical["region"]["startLine"] == e.line);
    // The finding id is the fingerprint, the same as in the JSON report.
    std::string id = (*r)["partialFingerprints"]["chokepointFindingId/v1"];
    bool same_id = false;
    for (const auto& f : n1)
      same_id =
          same_id || (f["id"] == id && f["evidence"]["route"] == e.route &&
                      f["evidence"]["code_filepath"] == e.file && f["evidence"]["code_lineno"] == e.line);
    CHECK(same_id);
    // The rule it points at is the catalogue's, with its thresholds.
    const ojson& rule = run["tool"]["driver"]["rules"][(*r)["ruleIndex"].get<size_t>()];
    CHECK(rule["id"] == "db.n_plus_one");
    CHECK(rule["properties"]["thresholds"].size() == cp::find_rule("db.n_plus_one")->thresholds.size());
    CHECK(rule["help"]["text"].get<std::string>().find("min_calls_per_parent") != std::string::npos);
  }
  CHECK(run["tool"]["driver"]["rules"].size() == cp::rule_catalog().size());
}

TEST_CASE(
    "SARIF: level follows the gate and the severity, findings without a source line get logical locations") {
  std::string evidence = fixture_path("postgres/missing_index.evidence.json");
  auto gated = diagnose_sarif({"--replay", evidence, "--fail-on", "medium"});
  CHECK(gated.exit_code == 1);
  auto ungated = diagnose_sarif({"--replay", evidence});
  CHECK(ungated.exit_code == 0);
  auto failing = results_of(gated.doc, "db.missing_index");
  REQUIRE(!failing.empty());
  for (const auto& r : failing) {
    CHECK(r["level"] == "error");
    CHECK(!r["locations"][0].contains("physicalLocation"));
    bool names_table = false;
    for (const auto& l : r["locations"][0]["logicalLocations"])
      names_table = names_table || (l["kind"] == "type" && l["name"] == r["properties"]["evidence"]["table"]);
    CHECK(names_table);
  }
  for (const auto& r : results_of(ungated.doc, "db.missing_index"))
    CHECK(r["level"] == (r["properties"]["severity"] == "critical" || r["properties"]["severity"] == "high"
                             ? "warning"
                             : "note"));
  CHECK(gated.doc["runs"][0]["properties"]["gate"]["status"] == "fail");
}

TEST_CASE("SARIF: a probe that could not examine its target is a failed invocation with its message") {
  auto r = diagnose_sarif({"--traces", fixture_path("traces/bad_no_spans.json")});
  CHECK(r.exit_code == 3);
  const ojson& inv = r.doc["runs"][0]["invocations"][0];
  CHECK(inv["executionSuccessful"] == false);
  REQUIRE(!inv["toolExecutionNotifications"].empty());
  CHECK(inv["toolExecutionNotifications"][0]["level"] == "error");
  CHECK(r.doc["runs"][0]["results"].empty());
}

TEST_CASE("the Node.js orm_n_plus_one capture: code.* reach the spans, and SARIF annotates that line") {
  std::string dir = source_dir() + "/tests/workloads/node/captures/";
  auto expected = ojson::parse(std::ifstream(dir + "expected.json"), nullptr, false);
  REQUIRE(!expected.is_discarded());
  const ojson& locus = expected["scenarios"]["orm_n_plus_one"]["locus"];
  REQUIRE(locus.contains("code_lineno"));

  // The reader carries the source location of every span of the repeated statement.
  size_t located = 0, statements = 0;
  cp::traces::read_traces(dir + "orm_n_plus_one.otlp.jsonl", [&](const cp::traces::RawSpan& s) {
    if (cp::traces::normalize_statement(s.db_statement) != locus["statement"]) return;
    ++statements;
    located += s.code_filepath == locus["code_filepath"].get<std::string>() &&
               s.code_lineno == locus["code_lineno"].get<int64_t>() &&
               s.code_function == locus["code_function"].get<std::string>();
  });
  CHECK(statements >= 12);
  CHECK(located == statements);

  auto sarif = diagnose_sarif({"--traces", dir + "orm_n_plus_one.otlp.jsonl"});
  CHECK(sarif.exit_code == 0);
  auto results = results_of(sarif.doc, "db.n_plus_one");
  if (results.empty()) {
    // The trace analysis (#13a) does not report this capture's N+1 yet: nothing to annotate.
    WARN_MESSAGE(false,
                 "no db.n_plus_one finding on orm_n_plus_one.otlp.jsonl yet: the annotation is "
                 "checked on tests/fixtures/traces/otlp_n_plus_one_code.json only");
    return;
  }
  REQUIRE(results.size() == 1);
  const ojson& physical = results[0]["locations"][0]["physicalLocation"];
  CHECK(physical["artifactLocation"]["uri"] == locus["code_filepath"]);
  CHECK(physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
  CHECK(physical["region"]["startLine"] == locus["code_lineno"]);
  CHECK(result_in(results, locus["code_function"].get<std::string>()) != nullptr);
}
