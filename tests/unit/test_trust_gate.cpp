// Issue #11, the gate: a run that could not examine a target never passes, never resolves what it did
// not look at, an error rule nobody judged is visible, baselines match targets by what they are, and
// "nothing found" is only as sure as what was measured.
#include <doctest/doctest.h>

#include <fstream>

#include "harness.hpp"
#include "json_schema.hpp"

using namespace cp::test;

// This file's names (json is nlohmann::json here) stay in it when a unity build compiles it
// together with other tests.
namespace test_trust_gate {

using nlohmann::json;

namespace {

// The missing-index evidence with its postgres probe in error (the server went away).
std::string errored_evidence() {
  auto ev = fixture("postgres/missing_index.evidence.json");
  ev["probes"][0]["status"] = "error";
  ev["probes"][0]["message"] = "postgresql://app@127.0.0.1:5432/shop: connection refused";
  ev["probes"][0]["snapshot"] = json::object();
  return write_temp("errored.evidence.json", ev.dump());
}

std::string report_of(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> argv{chokepoint_bin(), "diagnose"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--format", "json"});
  return write_temp(name, run(argv).out);
}

std::vector<std::string> ids(const json& a) {
  std::vector<std::string> out;
  for (const auto& x : a) out.push_back(x.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("a probe that could not examine its target: gate incomplete, never pass, exit 3") {
  auto r = diagnose_json({"--replay", errored_evidence(), "--fail-on", "high"});
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  CHECK(r.report["gate"]["status"] == "incomplete");
  CHECK(r.report["gate"]["notes"][0].get<std::string>().find("could not be examined") != std::string::npos);
  // No gate asked for: still not "pass".
  auto plain = diagnose_json({"--replay", errored_evidence()});
  CHECK(plain.report["gate"]["status"] == "incomplete");
}

TEST_CASE("findings of a probe that did not run are not resolved against a baseline, and compare exits 3") {
  std::string base =
      report_of({"--replay", fixture_path("postgres/missing_index.evidence.json")}, "base.json");
  auto r = diagnose_json({"--replay", errored_evidence(), "--baseline", base, "--fail-on", "high"});
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  const auto& b = r.report["gate"]["baseline"];
  CHECK(b["resolved"].empty());
  auto before = nlohmann::json::parse(slurp(base));
  CHECK(ids(b["unverified"]).size() == before["findings"].size());
  CHECK_FALSE(before["findings"].empty());

  std::string current = report_of({"--replay", errored_evidence()}, "current.json");
  auto c = run({chokepoint_bin(), "compare", base, current, "--format", "json"});
  CHECK(c.exit_code == 3);
  auto cj = json::parse(c.out);
  CHECK(cj["gate"]["status"] == "incomplete");
  CHECK(cj["gate"]["baseline"]["resolved"].empty());
  CHECK(c.err.find("postgres") != std::string::npos);

  // The same probe ran and did not see it: resolved.
  std::string healthy =
      report_of({"--replay", fixture_path("postgres/healthy.evidence.json")}, "healthy.json");
  auto ok = run({chokepoint_bin(), "compare", base, healthy, "--format", "json"});
  CHECK(ok.exit_code == 0);
  CHECK_FALSE(json::parse(ok.out)["gate"]["baseline"]["resolved"].empty());
}

TEST_CASE("a rule set to level error whose probe never ran: a gate note, and rules_not_run = error fails") {
  std::string traces = fixture_path("traces/otlp_n_plus_one.json");
  std::string note_only = write_temp("error-rule.toml", "[rules.\"db.missing_index\"]\nlevel = \"error\"\n");
  auto r = diagnose_json({"--traces", traces, "--config", note_only});
  CHECK(r.schema_errors.empty());
  REQUIRE(r.report["gate"]["notes"].size() == 1);
  std::string note = r.report["gate"]["notes"][0];
  CHECK(note.find("db.missing_index") != std::string::npos);
  CHECK(note.find("postgres") != std::string::npos);
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_text.find("\"notes\"") != std::string::npos);
  auto text = run({chokepoint_bin(), "diagnose", "--traces", traces, "--config", note_only});
  CHECK(text.out.find("db.missing_index") != std::string::npos);

  std::string failing = write_temp("error-rule-fails.toml",
                                   "[rules.\"db.missing_index\"]\nlevel = \"error\"\n"
                                   "[gate]\nrules_not_run = \"error\"\n");
  auto f = diagnose_json({"--traces", traces, "--config", failing});
  CHECK(f.exit_code == 1);
  CHECK(f.report["gate"]["status"] == "fail");
  CHECK(f.report["gate"]["reasons"][0].get<std::string>().find("db.missing_index") != std::string::npos);
  // A rule its probe did judge adds no note.
  std::string judged = write_temp("judged.toml", "[rules.\"db.n_plus_one\"]\nlevel = \"error\"\n");
  CHECK(diagnose_json({"--traces", traces, "--config", judged}).report["gate"]["notes"].empty());
}

TEST_CASE("a fail_on threshold no judged rule could reach: a gate note naming what was not examined") {
  // The only probe could not examine its target: --fail-on high gates nothing in this run.
  auto r = diagnose_json({"--replay", errored_evidence(), "--fail-on", "high"});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 3);
  REQUIRE(r.report["gate"]["notes"].size() == 2);
  CHECK(r.report["gate"]["notes"][1] ==
        "--fail-on high could not fail this run: no rule it gates was judged; not examined: postgres "
        "postgresql://app@127.0.0.1:5432/shop");
  // No threshold, no note.
  CHECK(diagnose_json({"--replay", errored_evidence()}).report["gate"]["notes"].size() == 1);

  // The same from [gate] fail_on, made to fail by rules_not_run = "error".
  std::string failing =
      write_temp("fail-on-not-run.toml", "[gate]\nfail_on = \"medium\"\nrules_not_run = \"error\"\n");
  auto f = diagnose_json({"--replay", errored_evidence(), "--config", failing});
  CHECK(f.exit_code == 3);  // a target that could not be examined wins (CONTRACT: exit codes)
  CHECK(f.report["gate"]["status"] == "fail");
  REQUIRE(f.report["gate"]["reasons"].size() == 1);
  CHECK(f.report["gate"]["reasons"][0].get<std::string>().rfind(
            "[gate] fail_on medium could not fail this run: no rule it gates was judged", 0) == 0);

  // Every rule set to level "warn": the probe ran, but nothing it judges can reach the threshold.
  std::string all_warn;
  for (const auto& rule : json::parse(run({chokepoint_bin(), "rules", "--format", "json"}).out))
    if (rule["kind"] == "rule")
      all_warn += "[rules.\"" + rule["id"].get<std::string>() + "\"]\nlevel = \"warn\"\n";
  std::string ev = fixture_path("postgres/missing_index.evidence.json");
  auto w =
      diagnose_json({"--replay", ev, "--fail-on", "high", "--config", write_temp("all-warn.toml", all_warn)});
  CHECK(w.exit_code == 0);
  CHECK(w.report["gate"]["status"] == "pass");
  REQUIRE(w.report["gate"]["notes"].size() == 1);
  CHECK(
      w.report["gate"]["notes"][0].get<std::string>().find(
          "not examined: postgres postgresql://app@127.0.0.1:5432/shop (every rule it judges is set to level "
          "\"warn\" or \"off\")") != std::string::npos);
  auto wf =
      diagnose_json({"--replay", ev, "--fail-on", "high", "--config",
                     write_temp("all-warn-fails.toml", all_warn + "[gate]\nrules_not_run = \"error\"\n")});
  CHECK(wf.exit_code == 1);
  CHECK(wf.report["gate"]["status"] == "fail");

  // A probe that judged a rule the threshold gates: no note, whatever it found.
  CHECK(diagnose_json({"--replay", ev, "--fail-on", "critical"}).report["gate"]["notes"].empty());
}

TEST_CASE("baseline identity: trace files named per build match by the services they show") {
  std::string traces = slurp(fixture_path("traces/otlp_n_plus_one.json"));
  std::string base_file = write_temp("base.json", traces), pr_file = write_temp("pr.json", traces);
  std::string base = report_of({"--traces", base_file}, "traces-base-report.json");
  auto r = diagnose_json({"--traces", pr_file, "--baseline", base});
  CHECK(r.exit_code == 0);
  CHECK(r.schema_errors.empty());
  CHECK(r.report["gate"]["baseline"]["new"].empty());
  CHECK_FALSE(r.report["gate"]["baseline"]["unchanged"].empty());

  // Other services entirely: refused, naming both sides.
  std::string other = slurp(fixture_path("traces/zipkin_healthy.json"));
  auto refused =
      run({chokepoint_bin(), "diagnose", "--traces", write_temp("other.json", other), "--baseline", base});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("nothing in common") != std::string::npos);

  // Servers: host and database, whoever connects on whichever port.
  auto ev = fixture("postgres/healthy.evidence.json");
  std::string pg_base =
      report_of({"--replay", fixture_path("postgres/healthy.evidence.json")}, "pg-base.json");
  ev["probes"][0]["target"] = "postgresql://ci_user@127.0.0.1:40123/shop";
  auto same = diagnose_json({"--replay", write_temp("pg-other-port.json", ev.dump()), "--baseline", pg_base});
  CHECK(same.exit_code == 0);
  // Some in common: compared, with a warning.
  ev["probes"].push_back({{"kind", "http"},
                          {"flag", "--http"},
                          {"target", "http://api.internal/x"},
                          {"status", "ok"},
                          {"message", ""},
                          {"duration_ms", 1},
                          {"snapshot", {{"url", "http://api.internal/x"}, {"samples", json::array()}}}});
  auto partly = diagnose_json({"--replay", write_temp("pg-and-http.json", ev.dump()), "--baseline", pg_base});
  CHECK(partly.exit_code != 2);
  CHECK(partly.stderr_text.find("warning") != std::string::npos);
  CHECK(partly.report["gate"]["notes"][0].get<std::string>().find("http api.internal/x") !=
        std::string::npos);
}

TEST_CASE("no bottleneck on too little data: confidence says how much was measured, and why") {
  json samples = json::array();
  for (int i = 0; i < 7; ++i) samples.push_back({{"status", 503}, {"ttfb_ms", 3}, {"total_ms", 4}});
  json ev = {{"format", "chokepoint-evidence"},
             {"version", 1},
             {"run", {{"started_at", "2026-11-26T06:40:08Z"}, {"window_s", 3}, {"duration_ms", 3000}}},
             {"probes",
              {{{"kind", "http"},
                {"flag", "--http"},
                {"target", "http://api.internal/pay"},
                {"status", "ok"},
                {"message", ""},
                {"duration_ms", 3000},
                {"snapshot",
                 {{"url", "http://api.internal/pay"},
                  {"endpoint", "api.internal/pay"},
                  {"host", "api.internal"},
                  {"window_s", 3},
                  {"rate_per_s", 2},
                  {"timeout_ms", 5000},
                  {"samples", samples}}}}}}};
  auto r = diagnose_json({"--replay", write_temp("seven-calls.json", ev.dump())});
  CHECK(r.schema_errors.empty());
  CHECK(r.report["verdict"]["category"] == "none");
  CHECK(r.report["verdict"]["confidence"].get<double>() <= 0.7);
  std::string headline = r.report["verdict"]["headline"];
  CHECK(headline.find("7 of the 10 calls") != std::string::npos);

  // A second probe that failed halves what was measured.
  auto both = fixture("postgres/healthy.evidence.json");
  both["probes"].push_back({{"kind", "redis"},
                            {"flag", "--redis"},
                            {"target", "redis://cache:6379/0"},
                            {"status", "error"},
                            {"message", "redis://cache:6379/0: connection lost"},
                            {"snapshot", json::object()}});
  auto half = diagnose_json({"--replay", write_temp("half.json", both.dump())});
  CHECK(half.report["verdict"]["category"] == "none");
  CHECK(half.report["verdict"]["confidence"].get<double>() <= 0.5);
  CHECK(half.report["verdict"]["headline"].get<std::string>().find("redis could not examine") !=
        std::string::npos);
}

}  // namespace test_trust_gate
