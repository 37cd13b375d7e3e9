// The dashboard and CI formats, checked by their real consumers: an XML parser for JUnit,
// promtool for Prometheus; the markdown summary stays small.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/diagnose.hpp"
#include "core/gate.hpp"
#include "harness.hpp"
#include "render/render.hpp"
#include "util/format.hpp"

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
                      "assert int(root.get('tests')) == len(cases) and root.get('skipped') is None\n"
                      "assert sum(int(x.get('skipped')) for x in root.findall('./testsuite')) == s\n"
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
  std::string counts = junit_counts(test::write_temp("junit.xml", render_junit(r)));
  int tests, failures, errors, skipped;
  REQUIRE(sscanf(counts.c_str(), "%d %d %d %d", &tests, &failures, &errors, &skipped) == 4);
  CHECK(failures == failing);
  CHECK(errors == 0);
  CHECK(skipped == 3);  // network, code and infrastructure were not examined

  Report broken = r;
  broken.probes[0].status = ProbeStatus::error;
  broken.probes[0].message = "connection refused <&> \"quoted\"";
  counts = junit_counts(test::write_temp("junit-error.xml", render_junit(broken)));
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
    f.title.assign(500, 'x');  // filled in place: GCC 12's -Warray-bounds misreads moved long temporaries
    f.title += " | pipes | and <html>";
    r.findings.push_back(f);
  }
  std::string md = render_markdown(r);
  CHECK(md.size() < 64 * 1024);
  CHECK(md.find(fmt::format("and {} more", r.findings.size() - 25)) != std::string::npos);
  CHECK(md.find("<html>") == std::string::npos);
  CHECK(md.find("## chokepoint: database") == 0);
}

namespace {

// xmllint against the JUnit schema of Jenkins' xunit plugin (tests/junit/junit.xsd).
std::string junit_schema_errors(const std::string& xml_text) {
  std::string path = test::write_temp("schema-check.xml", xml_text);
  auto r = test::run({"xmllint", "--noout", "--schema", test::source_dir() + "/tests/junit/junit.xsd", path});
  return r.exit_code == 0 ? "" : r.err + r.out;
}

// (suite, testcase) names of a JUnit document, in order.
std::vector<std::string> junit_names(const std::string& xml_text) {
  std::string path = test::write_temp("names.xml", xml_text);
  auto r = test::run({"python3", "-c",
                      "import sys, xml.etree.ElementTree as ET\n"
                      "for s in ET.parse(sys.argv[1]).getroot():\n"
                      "  for c in s: print(s.get('name') + ' :: ' + c.get('name'))\n",
                      path});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) out.push_back(line);
  return out;
}

// A report as another CI run would produce it: other ports, other measured numbers.
Report another_run(Report r) {
  for (auto& p : r.probes) {
    auto pos = p.target.find(":5432");
    if (pos != std::string::npos) p.target.replace(pos, 5, ":54999");
    p.duration_ms *= 1.7;
  }
  for (auto& f : r.findings) {
    auto pos = f.target.find(":5432");
    if (pos != std::string::npos) f.target.replace(pos, 5, ":54999");
    f.title += " (now 2.5 s, 4.1k calls)";
  }
  for (auto& m : r.metrics) {
    m.value *= 1.3;
    auto t = m.labels.find("target");
    if (t != m.labels.end() && t->second.find(":5432") != std::string::npos)
      t->second.replace(t->second.find(":5432"), 5, ":54999");
  }
  return r;
}

std::set<std::string> exported_families(const std::string& text) {
  std::set<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("# TYPE ", 0) == 0) out.insert(line.substr(7, line.find(' ', 7) - 7));
  return out;
}

// Series identities (name and labels, no value) of a Prometheus text.
std::set<std::string> series(const std::string& text) {
  std::set<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') out.insert(line.substr(0, line.rfind(' ')));
  return out;
}

// Every saved evidence in the repository: the test fixtures and the sample reports (all probes).
std::vector<std::string> all_evidence_files() {
  std::vector<std::string> out;
  for (const char* dir : {"/tests/fixtures", "/sample-reports"})
    for (const auto& e : std::filesystem::recursive_directory_iterator(test::source_dir() + dir))
      if (e.path().string().ends_with(".evidence.json")) out.push_back(e.path().string());
  return out;
}

}  // namespace

TEST_CASE("JUnit validates against the xunit plugin's schema: failures, errors, skipped, metrics") {
  Report failing = gated("pgbouncer/pool_saturation.evidence.json");
  CHECK(junit_schema_errors(render_junit(failing)) == "");
  Report broken = failing;
  broken.probes[0].status = ProbeStatus::error;
  broken.probes[0].message = "connection refused <&> \"quoted\" \x01";
  CHECK(junit_schema_errors(render_junit(broken)) == "");
  Report against = gated("postgres/n_plus_one.evidence.json", "postgres/healthy.evidence.json");
  REQUIRE_FALSE(against.gate.baseline.metric_changes.empty());
  CHECK(junit_schema_errors(render_junit(against)) == "");
  // The schema is strict enough to fail: a skipped count on <testsuites> is what it rejects.
  std::string old = render_junit(failing);
  old.replace(old.find("<testsuites name=\"chokepoint\""), 29,
              "<testsuites name=\"chokepoint\" skipped=\"3\"");
  CHECK(junit_schema_errors(old) != "");
}

TEST_CASE("JUnit names are stable across runs: rule and finding id, no numbers, no ports") {
  Report r = gated("postgres/n_plus_one.evidence.json");
  auto names = junit_names(render_junit(r));
  CHECK(names == junit_names(render_junit(another_run(r))));
  for (const auto& f : r.findings) {
    CAPTURE(f.rule);
    CHECK(std::find(names.begin(), names.end(),
                    "chokepoint.postgres postgresql://app@127.0.0.1/shop :: " + f.rule + " " + f.id) !=
          names.end());
  }
  for (const auto& n : names) CHECK(n.find(":5432") == std::string::npos);
  // The numbers are in the message.
  std::string xml = render_junit(r);
  CHECK(xml.find("runs 20 times per parent query") != std::string::npos);
}

TEST_CASE("Prometheus exports metrics[] with conventional names and units, labels that do not flip") {
  CHECK(metric_family("pg.db_time_ms_per_s", "ms/s").name == "chokepoint_pg_db_time_seconds_per_second");
  CHECK(metric_family("pg.db_time_ms_per_s", "ms/s").scale == 0.001);
  CHECK(metric_family("traces.route_p95_ms", "ms").name == "chokepoint_traces_route_p95_seconds");
  CHECK(metric_family("redis.hit_ratio", "ratio").name == "chokepoint_redis_hit_ratio");
  CHECK(metric_family("redis.used_memory_bytes", "bytes").name == "chokepoint_redis_used_memory_bytes");
  CHECK(metric_family("pg.xact_per_s", "xact/s").name == "chokepoint_pg_xact_per_second");
  CHECK(metric_family("pg.xact_per_s", "xact/s").scale == 1);

  Report r = gated("postgres/missing_index.evidence.json");
  std::string text = render_prometheus(r);
  for (const auto& m : r.metrics) {
    CAPTURE(m.name);
    CHECK(exported_families(text).count(metric_family(m.name, m.unit).name) == 1);
  }
  // pg.db_time_ms_per_s in ms/s, exported in s/s.
  double ms_per_s = 0;
  for (const auto& m : r.metrics)
    if (m.name == "pg.db_time_ms_per_s") ms_per_s = m.value;
  REQUIRE(ms_per_s > 0);
  auto at = text.find("\nchokepoint_pg_db_time_seconds_per_second{");
  REQUIRE(at != std::string::npos);
  double exported = std::stod(text.substr(text.find("} ", at) + 2));
  CHECK(exported == doctest::Approx(ms_per_s / 1000));

  CHECK(text.find("examined=") == std::string::npos);
  CHECK(text.find(":5432") == std::string::npos);
  CHECK(series(text) == series(render_prometheus(another_run(r))));
  auto check = test::run({"promtool", "check", "metrics"}, text);
  CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
}

TEST_CASE("the Grafana dashboard is complete and every query names a metric the exporter writes") {
  std::ifstream in(test::source_dir() + "/examples/grafana/chokepoint-dashboard.json");
  REQUIRE(in.good());
  auto dash = nlohmann::json::parse(in);
  for (const char* key : {"uid", "title", "panels", "schemaVersion", "time", "__inputs"})
    CHECK(dash.contains(key));
  std::set<std::string> written;
  for (const auto& f : all_evidence_files()) {
    std::ifstream file(f);
    Report r = judge_evidence(evidence_from_json(nlohmann::ordered_json::parse(file)), {});
    apply_gate(r, {});
    for (const auto& name : exported_families(render_prometheus(r))) written.insert(name);
  }
  REQUIRE(written.count("chokepoint_gate_passed") == 1);
  size_t queries = 0;
  std::regex metric(R"(chokepoint_[a-z0-9_]+)");
  for (const auto& panel : dash["panels"]) {
    if (panel["type"] == "row") continue;
    CAPTURE(panel["title"].get<std::string>());
    REQUIRE(panel.contains("targets"));
    CHECK_FALSE(panel["targets"].empty());
    for (const auto& t : panel["targets"]) {
      std::string expr = t["expr"];
      ++queries;
      size_t names = 0;
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it, ++names) {
        CAPTURE(expr);
        CHECK(written.count(it->str()) == 1);
      }
      CHECK(names >= 1);
    }
  }
  CHECK(queries >= 20);
}

TEST_CASE("markdown: the gate says why, resolved findings are named, every remediation kind is shown") {
  // Passing beside a critical finding: the line says it is unchanged from the baseline.
  Report base = judge_evidence(evidence_from_json(test::fixture("postgres/missing_index.evidence.json")), {});
  Report same = base;
  GateOptions g;
  g.fail_on = Severity::high;
  g.baseline = &base;
  g.baseline_file = "baseline.json";
  apply_gate(same, g);
  std::string md = render_markdown(same);
  CHECK(
      md.find("**Gate:** ✅ pass — 1 finding at or above high, none counted: 1 unchanged from the baseline") !=
      std::string::npos);

  Report fresh =
      judge_evidence(evidence_from_json(test::fixture("postgres/missing_index.evidence.json")), {});
  apply_gate(fresh, {Severity::high, std::nullopt, nullptr});
  CHECK(render_markdown(fresh).find("**Gate:** ❌ fail — 1 reason failed it (fail on high)") !=
        std::string::npos);
  Report quiet = gated("postgres/healthy.evidence.json");
  CHECK(render_markdown(quiet).find("✅ pass — no finding at or above medium") != std::string::npos);
  Report never = fresh;
  apply_gate(never, {});
  CHECK(render_markdown(never).find("no threshold (`--fail-on never`)") != std::string::npos);

  // Resolved: the baseline's finding, named by rule and title.
  Report healthy = judge_evidence(evidence_from_json(test::fixture("postgres/healthy.evidence.json")), {});
  apply_gate(healthy, g);
  REQUIRE(healthy.gate.baseline.resolved_ids.size() == base.findings.size());
  std::string resolved = render_markdown(healthy);
  CHECK(resolved.find("**Resolved** (1)") != std::string::npos);
  CHECK(resolved.find("`db.missing_index`") != std::string::npos);
  CHECK(resolved.find(base.findings[0].title.substr(0, 40)) != std::string::npos);

  // Every kind of fix: SQL and a configuration snippet, fenced.
  Report fixes = fresh;
  fixes.findings[0].remediation.config = "[pgbouncer]\npool_mode = transaction\ndefault_pool_size = 20";
  std::string both = render_markdown(fixes);
  CHECK(both.find("```sql\nCREATE INDEX CONCURRENTLY ON public.orders (customer_id);\n  ```") !=
        std::string::npos);
  CHECK(both.find("```\n[pgbouncer]\npool_mode = transaction\ndefault_pool_size = 20\n  ```") !=
        std::string::npos);
}

TEST_CASE("markdown stays under GitHub's comment limit with long fixes and closes what it opened") {
  Report r = gated("postgres/n_plus_one.evidence.json", "postgres/healthy.evidence.json");
  Finding f = r.findings.front();
  for (int i = 0; i < 400; ++i) {
    f.id = fmt::format("{:032x}", i);
    f.remediation.summary.assign(900, 'y');  // filled in place, as above
    f.remediation.sql.emplace(5000, 's');
    *f.remediation.sql += "```";
    f.remediation.config.emplace(5000, 'c');
    r.findings.push_back(f);
    r.gate.reasons.emplace_back(300, 'r');
    r.gate.baseline.resolved_ids.push_back(f.id);
    r.gate.baseline.resolved_findings.push_back({{"id", f.id},
                                                 {"rule", f.rule},
                                                 {"severity", "high"},
                                                 {"component", "c"},
                                                 {"title", std::string(400, 't')}});
  }
  std::string md = render_markdown(r);
  size_t characters = display_width(md);
  CHECK(characters < 65536);
  CHECK(md.size() < 65536);
  CHECK(md.find("<details>") != std::string::npos);
  CHECK(md.find("</details>") != std::string::npos);
}
