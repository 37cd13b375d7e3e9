// The dashboard and CI formats, checked by their real consumers: an XML parser for JUnit,
// promtool for Prometheus; the markdown summary stays small.
#include <doctest/doctest.h>

#include <fstream>

#include <fmt/format.h>

#include "core/diagnose.hpp"
#include "core/gate.hpp"
#include "harness.hpp"
#include "render/render.hpp"

using namespace cp;

namespace {

Report gated(const std::string& current, const std::string& baseline = "") {
  Report r = judge_evidence(evidence_from_json(test::fixture(current)), {});
  static std::optional<Report> base;
  GateOptions g;
  g.fail_on = Severity::medium;
  if (!baseline.empty()) {
    base = judge_evidence(evidence_from_json(test::fixture(baseline)), {});
    g.baseline = &*base;
    g.baseline_file = baseline;
  }
  apply_gate(r, g);
  return r;
}

std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = test::temp_path(name);
  std::ofstream(path) << content;
  return path;
}

// JUnit counts from Python's XML parser: "tests failures errors skipped" of <testsuites>, and the
// number of <failure> elements.
std::string junit_counts(const std::string& xml_path) {
  auto r = test::run({"python3", "-c",
                      "import sys, xml.etree.ElementTree as ET\n"
                      "root = ET.parse(sys.argv[1]).getroot()\n"
                      "assert root.tag == 'testsuites'\n"
                      "cases = root.findall('./testsuite/testcase')\n"
                      "f = len(root.findall('./testsuite/testcase/failure'))\n"
                      "e = len(root.findall('./testsuite/testcase/error'))\n"
                      "s = len(root.findall('./testsuite/testcase/skipped'))\n"
                      "assert int(root.get('failures')) == f and int(root.get('errors')) == e\n"
                      "assert int(root.get('tests')) == len(cases) and int(root.get('skipped')) == s\n"
                      "print(len(cases), f, e, s)\n",
                      xml_path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out;
}

}  // namespace

TEST_CASE(
    "JUnit parses, one failure per failing finding, errors for probes that failed, skipped categories") {
  Report r = gated("pgbouncer/pool_saturation.evidence.json");
  int failing = 0;
  for (const auto& f : r.findings) failing += f.fails_gate;
  REQUIRE(failing >= 1);
  std::string counts = junit_counts(write_temp("junit.xml", render_junit(r)));
  int tests, failures, errors, skipped;
  REQUIRE(sscanf(counts.c_str(), "%d %d %d %d", &tests, &failures, &errors, &skipped) == 4);
  CHECK(failures == failing);
  CHECK(errors == 0);
  CHECK(skipped == 3);  // network, code and infrastructure were not examined

  Report broken = r;
  broken.probes[0].status = ProbeStatus::error;
  broken.probes[0].message = "connection refused <&> \"quoted\"";
  counts = junit_counts(write_temp("junit-error.xml", render_junit(broken)));
  REQUIRE(sscanf(counts.c_str(), "%d %d %d %d", &tests, &failures, &errors, &skipped) == 4);
  CHECK(errors == 1);
}

TEST_CASE("JUnit from the CLI: the must-hold pair counts its failing N+1") {
  auto bin = test::chokepoint_bin();
  std::string base = test::temp_path("base.json"), out = test::temp_path("gate.xml");
  REQUIRE(test::run({bin, "diagnose", "--replay",
                     test::source_dir() + "/tests/fixtures/postgres/healthy.evidence.json", "--format",
                     "json", "--output", base})
              .exit_code == 0);
  auto r = test::run({bin, "diagnose", "--replay",
                      test::source_dir() + "/tests/fixtures/postgres/n_plus_one.evidence.json", "--baseline",
                      base, "--fail-on", "high", "--format", "junit", "--output", out});
  CHECK(r.exit_code == 1);
  int tests, failures, errors, skipped;
  REQUIRE(sscanf(junit_counts(out).c_str(), "%d %d %d %d", &tests, &failures, &errors, &skipped) == 4);
  CHECK(failures == 1);
}

TEST_CASE("promtool check metrics accepts the Prometheus output, which holds no query text") {
  for (const char* f : {"postgres/missing_index.evidence.json", "pgbouncer/held_transactions.evidence.json",
                        "postgres/healthy.evidence.json"}) {
    CAPTURE(f);
    Report r = gated(f);
    std::string text = render_prometheus(r);
    auto check = test::run({"promtool", "check", "metrics"}, text);
    CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
    CHECK(text.find("SELECT") == std::string::npos);
    CHECK(text.find("chokepoint_gate_passed") != std::string::npos);
    CHECK(text.find("chokepoint_probe_up{probe=\"postgres\"") != std::string::npos);
    CHECK(text.find("chokepoint_last_run_timestamp_seconds 17") != std::string::npos);
  }
}

TEST_CASE("markdown stays bounded with a thousand findings") {
  Report r = gated("postgres/n_plus_one.evidence.json", "postgres/healthy.evidence.json");
  Finding f = r.findings.front();
  for (int i = 0; i < 1000; ++i) {
    f.id = fmt::format("{:032x}", i);
    f.title = std::string(500, 'x') + " | pipes | and <html>";
    r.findings.push_back(f);
  }
  std::string md = render_markdown(r);
  CHECK(md.size() < 64 * 1024);
  CHECK(md.find(fmt::format("and {} more", r.findings.size() - 25)) != std::string::npos);
  CHECK(md.find("<html>") == std::string::npos);
  CHECK(md.find("## chokepoint: database") == 0);
}
