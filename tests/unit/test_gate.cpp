// The CI gate, table-driven, and the gate through the CLI (diagnose --baseline, compare).
#include <doctest/doctest.h>

#include <fstream>

#include "core/config.hpp"
#include "core/diagnose.hpp"
#include "core/error.hpp"
#include "core/gate.hpp"
#include "core/report_json.hpp"
#include "harness.hpp"
#include "json_schema.hpp"

using namespace cp;

namespace {

Report scenario(const std::string& name, const Settings& settings = {}) {
  return judge_evidence(evidence_from_json(test::fixture("postgres/" + name + ".evidence.json")), settings);
}

Metric* metric(Report& r, const std::string& name) {
  for (auto& m : r.metrics)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace

TEST_CASE("gate decisions") {
  struct Case {
    const char* name;
    const char* baseline;  // scenario of the baseline run, "" = no baseline
    const char* current;
    std::optional<Severity> fail_on;
    RuleLevel metric_level;
    std::function<void(Report&)> tweak;  // on the current report, before the gate
    const char* status;
    const char* reason_has;
  };
  std::vector<Case> cases = {
      {"no gate", "", "n_plus_one", std::nullopt, RuleLevel::warn, nullptr, "pass", ""},
      {"no baseline: every finding at or above fail_on", "", "n_plus_one", Severity::high, RuleLevel::warn,
       nullptr, "fail", "db.n_plus_one"},
      {"healthy against healthy", "healthy", "healthy", Severity::low, RuleLevel::warn, nullptr, "pass", ""},
      {"a new high finding", "healthy", "n_plus_one", Severity::high, RuleLevel::warn, nullptr, "fail",
       "new db.n_plus_one high"},
      {"the same high finding again: unchanged, not failing", "n_plus_one", "n_plus_one", Severity::high,
       RuleLevel::warn, nullptr, "pass", ""},
      {"a finding that got worse", "n_plus_one", "n_plus_one", Severity::critical, RuleLevel::warn,
       [](Report& r) {
         for (auto& f : r.findings)
           if (f.rule == "db.n_plus_one") f.severity = Severity::critical;
       },
       "fail", "regressed db.n_plus_one critical"},
      {"a resolved finding", "n_plus_one", "healthy", Severity::low, RuleLevel::warn, nullptr, "pass", ""},
      {"a regressed metric, gated", "healthy", "healthy", std::nullopt, RuleLevel::error,
       [](Report& r) { metric(r, "pg.db_time_ms_per_s")->value *= 3; }, "fail",
       "metric pg.db_time_ms_per_s regressed"},
      {"a regressed metric, reported only", "healthy", "healthy", Severity::high, RuleLevel::warn,
       [](Report& r) { metric(r, "pg.db_time_ms_per_s")->value *= 3; }, "pass", ""},
      {"a small change under the floor is noise", "healthy", "healthy", std::nullopt, RuleLevel::error,
       [](Report& r) { metric(r, "pg.db_time_ms_per_s")->value += 10; }, "pass", ""},
      {"level warn never fails", "", "n_plus_one", Severity::low, RuleLevel::warn,
       [](Report& r) {
         for (auto& f : r.findings) f.level = "warn";
       },
       "pass", ""},
      {"level error always fails", "", "healthy", std::nullopt, RuleLevel::warn,
       [](Report& r) {
         for (auto& f : r.findings) f.level = "error";
       },
       "fail", "db.slow_query"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    std::optional<Report> base;
    if (*c.baseline)
      base = report_from_json(report_to_json(scenario(c.baseline)));  // as read back from a file
    Report current = scenario(c.current);
    if (c.tweak) c.tweak(current);
    GateOptions g;
    g.fail_on = c.fail_on;
    g.metric_regressions = c.metric_level;
    if (base) {
      g.baseline = &*base;
      g.baseline_file = "baseline.json";
    }
    apply_gate(current, g);
    CHECK(current.gate.status == c.status);
    if (*c.reason_has) {
      REQUIRE_FALSE(current.gate.reasons.empty());
      bool found = false;
      for (const auto& r : current.gate.reasons) found = found || r.find(c.reason_has) != std::string::npos;
      CHECK_MESSAGE(found, current.gate.reasons.front());
    }
  }
}

TEST_CASE("baseline classification: new, unchanged, resolved, metric changes listed both ways") {
  Report base = scenario("n_plus_one");
  Report current = scenario("healthy");
  GateOptions g;
  g.baseline = &base;
  g.baseline_file = "b.json";
  apply_gate(current, g);
  const auto& b = current.gate.baseline;
  std::string n1;
  for (const auto& f : base.findings)
    if (f.rule == "db.n_plus_one") n1 = f.id;
  CHECK(std::find(b.resolved_ids.begin(), b.resolved_ids.end(), n1) != b.resolved_ids.end());
  CHECK(b.new_ids.size() + b.unchanged_ids.size() == current.findings.size());
  CHECK_FALSE(b.metric_changes.empty());
  auto errors = test::report_schema().validate(report_to_json(current));
  CHECK(errors.empty());
}

TEST_CASE("a baseline of other targets is an error, ports may differ") {
  Report a = scenario("healthy"), b = scenario("healthy");
  b.targets[0].name = "postgresql://app@127.0.0.1:6543/shop";  // another port: the same target
  CHECK_NOTHROW(check_same_targets(a, b, "b.json"));
  b.targets[0].name = "postgresql://app@127.0.0.1:5432/other";
  CHECK_THROWS_AS(check_same_targets(a, b, "b.json"), UsageError);
  b.targets[0].kind = "redis";
  try {
    check_same_targets(a, b, "b.json");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("b.json") != std::string::npos);
  }
}

TEST_CASE("must hold: healthy baseline then a new N+1 -> exit 1 naming it, rule off -> exit 0") {
  auto bin = test::chokepoint_bin();
  std::string base = test::temp_path("healthy.json");
  auto r = test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/healthy.evidence.json"),
                      "--format", "json", "--output", base});
  REQUIRE(r.exit_code == 0);
  auto gated = test::diagnose_json({"--replay", test::fixture_path("postgres/n_plus_one.evidence.json"),
                                    "--baseline", base, "--fail-on", "high"});
  CHECK(gated.exit_code == 1);
  CHECK(gated.schema_errors.empty());
  REQUIRE_FALSE(gated.report["gate"]["reasons"].empty());
  CHECK(gated.report["gate"]["reasons"][0].get<std::string>().find("new db.n_plus_one") != std::string::npos);
  CHECK(gated.report["gate"]["baseline"]["new"].size() >= 1);

  std::string off = test::write_temp("off.toml", "[rules.\"db.n_plus_one\"]\nlevel = \"off\"\n");
  auto quiet = test::diagnose_json({"--replay", test::fixture_path("postgres/n_plus_one.evidence.json"),
                                    "--baseline", base, "--fail-on", "high", "--config", off});
  CHECK(quiet.exit_code == 0);
  CHECK(test::findings_of(quiet.report, "db.n_plus_one").empty());

  // compare does the same on two saved reports.
  std::string current = test::temp_path("current.json");
  REQUIRE(test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/n_plus_one.evidence.json"),
                     "--format", "json", "--output", current})
              .exit_code == 0);
  auto cmp = test::run({bin, "compare", base, current, "--fail-on", "high"});
  CHECK(cmp.exit_code == 1);
  CHECK(cmp.out.find("new db.n_plus_one") != std::string::npos);
  CHECK(test::run({bin, "compare", base, current, "--fail-on", "high", "--config", off}).exit_code == 0);
  CHECK(test::run({bin, "compare", base, base, "--fail-on", "low"}).exit_code == 0);
}

TEST_CASE("configuration and baseline errors exit 2 with a message naming the problem") {
  auto bin = test::chokepoint_bin();
  std::string bad = test::write_temp("bad.toml", "[rules.\"db.no_such_rule\"]\nlevel = \"error\"\n");
  auto r = test::run(
      {bin, "diagnose", "--replay", test::fixture_path("postgres/healthy.evidence.json"), "--config", bad});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("db.no_such_rule") != std::string::npos);
  auto missing = test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/healthy.evidence.json"),
                            "--baseline", "/nonexistent/baseline.json"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--baseline") != std::string::npos);
  std::string garbage = test::write_temp("garbage.json", "{\"not\": \"a report\"}");
  auto unreadable = test::run({bin, "compare", garbage, garbage});
  CHECK(unreadable.exit_code == 2);
  CHECK(unreadable.err.find("not a chokepoint report") != std::string::npos);
  // A baseline of other targets, nothing in common (one that shares some is compared, with a warning).
  std::string other = test::temp_path("other.json");
  REQUIRE(test::run({bin, "diagnose", "--traces", test::fixture_path("traces/otlp_n_plus_one.json"),
                     "--format", "json", "--output", other})
              .exit_code == 0);
  auto mismatch = test::run({bin, "diagnose", "--replay",
                             test::fixture_path("postgres/healthy.evidence.json"), "--baseline", other});
  CHECK(mismatch.exit_code == 2);
  CHECK(mismatch.err.find("compare runs of the same targets") != std::string::npos);
  std::string bad_gate = test::write_temp("gate.toml", "[gate]\nmetric_regressions = \"loud\"\n");
  CHECK(test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/healthy.evidence.json"),
                   "--config", bad_gate})
            .exit_code == 2);
}

TEST_CASE("[gate] in the config: fail_on and metric regressions") {
  auto s = parse_config(
      "[gate]\nfail_on = \"medium\"\nmetric_tolerance = 0.5\nmetric_regressions = \"error\"\n", "c.toml");
  CHECK(s.gate.fail_on == "medium");
  CHECK(s.gate.metric_tolerance == 0.5);
  CHECK(s.gate.metric_regressions == RuleLevel::error);
  auto bin = test::chokepoint_bin();
  std::string cfg = test::write_temp("failon.toml", "[gate]\nfail_on = \"high\"\n");
  CHECK(test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/n_plus_one.evidence.json"),
                   "--config", cfg})
            .exit_code == 1);
  CHECK(test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/n_plus_one.evidence.json"),
                   "--config", cfg, "--fail-on", "never"})
            .exit_code == 0);
}
