// The JSON report against the shipped schema, and the text report's shape.
#include <doctest/doctest.h>

#include "core/diagnose.hpp"
#include "core/error.hpp"
#include "core/gate.hpp"
#include "core/report_json.hpp"
#include "harness.hpp"
#include "json_schema.hpp"
#include "render/render.hpp"

using namespace cp;

namespace {
Report report_of(const std::string& scenario) {
  auto ev = evidence_from_json(test::fixture("postgres/" + scenario + ".evidence.json"));
  return judge_evidence(ev, Settings{});
}
}  // namespace

TEST_CASE("reports of every scenario validate against src/core/report.schema.json") {
  for (const char* scenario : {"missing_index", "n_plus_one", "healthy"}) {
    CAPTURE(scenario);
    auto doc = report_to_json(report_of(scenario));
    auto errors = test::report_schema().validate(doc);
    CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors.front()));
  }
}

TEST_CASE("the schema catches what the contract forbids") {
  auto doc = report_to_json(report_of("missing_index"));
  auto broken = doc;
  broken["ranking"].erase(0);
  CHECK_FALSE(test::report_schema().validate(broken).empty());
  broken = doc;
  broken["targets"][0]["name"] = "postgresql://app:hunter2@db/shop";
  CHECK_FALSE(test::report_schema().validate(broken).empty());
  broken = doc;
  broken["findings"][0].erase("remediation");
  CHECK_FALSE(test::report_schema().validate(broken).empty());
  broken = doc;
  broken["verdict"]["category"] = "disk";
  CHECK_FALSE(test::report_schema().validate(broken).empty());
}

TEST_CASE("ranking has all four categories and sums to 1, the verdict follows the findings") {
  for (const char* scenario : {"missing_index", "n_plus_one", "healthy"}) {
    auto r = report_of(scenario);
    REQUIRE(r.ranking.size() == 4);
    double sum = 0;
    for (const auto& e : r.ranking) sum += e.probability;
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-9));
  }
  CHECK(report_of("missing_index").verdict.category == Category::database);
  CHECK(report_of("n_plus_one").verdict.category == Category::database);
  CHECK_FALSE(report_of("healthy").verdict.category.has_value());
}

TEST_CASE("a report read back keeps its findings") {
  auto r = report_of("missing_index");
  auto back = report_from_json(report_to_json(r));
  REQUIRE(back.findings.size() == r.findings.size());
  CHECK(back.findings[0].id == r.findings[0].id);
  CHECK(back.findings[0].severity == r.findings[0].severity);
  CHECK(back.targets[0].name == r.targets[0].name);
  CHECK_THROWS_AS(report_from_json(nlohmann::ordered_json::parse(R"({"a": 1})")), UsageError);
}

TEST_CASE("text report: verdict first, then ranking, findings, not examined, probes, no colour by default") {
  auto text = render_text(report_of("missing_index"), {});
  auto pos = [&](const char* s) { return text.find(s); };
  CHECK(pos("VERDICT  DATABASE") < pos("RANKING"));
  CHECK(pos("RANKING") < pos("FINDINGS"));
  CHECK(pos("FINDINGS") < pos("\nNOT EXAMINED\n"));
  CHECK(pos("\nNOT EXAMINED\n") < pos("PROBES"));
  CHECK(pos("CREATE INDEX CONCURRENTLY ON public.orders (customer_id);") != std::string::npos);
  CHECK(text.find("\x1b[") == std::string::npos);
  CHECK(render_text(report_of("missing_index"), {true}).find("\x1b[") != std::string::npos);
}

TEST_CASE("gate: --fail-on counts findings at or above the severity, levels override") {
  auto r = report_of("missing_index");  // one critical finding
  apply_gate(r, {Severity::high, std::nullopt, nullptr});
  CHECK(r.gate.status == "fail");
  CHECK(r.gate.reasons.size() == 1);
  CHECK(r.gate.reasons[0].find("db.missing_index") != std::string::npos);
  apply_gate(r, {std::nullopt, std::nullopt, nullptr});
  CHECK(r.gate.status == "pass");
  r.findings[0].level = "warn";
  apply_gate(r, {Severity::low, std::nullopt, nullptr});
  CHECK(r.gate.status == "pass");
  auto healthy = report_of("healthy");
  healthy.findings.clear();
  apply_gate(healthy, {Severity::low, std::nullopt, nullptr});
  CHECK(healthy.gate.status == "pass");
  CHECK_THROWS_AS(parse_fail_on("severe"), UsageError);
}
