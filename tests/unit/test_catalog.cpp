// Rules as data, checked generically (osquery's spec-vs-output idea): every finding any probe
// produces from any recorded input carries only the evidence keys its rule declares, and every rule
// fires on some recorded input.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/catalog.hpp"
#include "core/diagnose.hpp"
#include "harness.hpp"
#include "probes/probe.hpp"

using namespace cp;

TEST_CASE("every rule declares its thresholds with a source, evidence keys and a fix") {
  for (const auto& r : rule_catalog()) {
    CAPTURE(r.id);
    CHECK_FALSE(r.fires_when.empty());
    CHECK_FALSE(r.fix.empty());
    CHECK_FALSE(r.evidence_keys.empty());
    for (const auto& t : r.thresholds) {
      CAPTURE(t.name);
      CHECK_FALSE(t.source.empty());
      CHECK_FALSE(t.meaning.empty());
    }
  }
}

TEST_CASE("every rule is declared by exactly one probe, and every rule a probe judges is declared") {
  std::map<std::string_view, int> declared;
  for (const auto& k : probe_kinds())
    for (const auto& spec : k.rules.declared) {
      ++declared[spec.id];
      CAPTURE(spec.id);
      CHECK(k.rules.judges(spec.id));  // a probe declares only what it judges
    }
  for (const auto& [id, n] : declared) {
    CAPTURE(id);
    CHECK(n == 1);
  }
  for (const auto& k : probe_kinds())
    for (auto id : k.rules.judged) {
      CAPTURE(id);
      CHECK(find_rule(id) != nullptr);
    }
  CHECK(declared.size() == rule_catalog().size());
}

TEST_CASE("every gated metric is declared once, with a direction and a floor") {
  std::map<std::string_view, int> seen;
  for (const auto& k : probe_kinds())
    for (const auto& g : k.rules.gated) {
      CAPTURE(g.name);
      CHECK(++seen[g.name] == 1);
      CHECK((g.worse == 1 || g.worse == -1));
      CHECK(g.floor > 0);
      CHECK(find_gated_metric(g.name) == &g);
    }
  CHECK(seen.size() >= 12);
}

namespace {

// Every recorded input the project keeps: evidence (fixtures and samples, with the sample's
// chokepoint.toml), trace fixtures and the instrumented workloads' captures.
std::vector<std::vector<std::string>> recorded_inputs() {
  namespace fs = std::filesystem;
  std::vector<std::vector<std::string>> runs;
  auto add = [&](const fs::path& dir, bool recursive) {
    std::vector<fs::path> files;
    if (recursive) {
      for (const auto& e : fs::recursive_directory_iterator(dir)) files.push_back(e.path());
    } else {
      for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      std::string name = p.filename().string();
      std::vector<std::string> argv = {
          test::chokepoint_bin(), "diagnose", "--format", "json", "--fail-on", "never"};
      if (name.size() > 14 && name.substr(name.size() - 14) == ".evidence.json") {
        argv.insert(argv.end(), {"--replay", p.string()});
        auto toml = p.string().substr(0, p.string().size() - 14) + ".toml";
        if (fs::exists(toml)) argv.insert(argv.end(), {"--config", toml});
      } else if (p.parent_path().filename() == "traces" || p.parent_path().filename() == "captures") {
        bool trace = p.extension() == ".jsonl" || (p.extension() == ".json" && name != "expected.json");
        if (!trace || name.rfind("bad_", 0) == 0) continue;
        argv.insert(argv.end(), {"--traces", p.string()});
      } else {
        continue;
      }
      runs.push_back(argv);
    }
  };
  add(test::source_dir() + "/tests/fixtures", true);
  add(test::source_dir() + "/sample-reports", false);
  add(test::source_dir() + "/tests/workloads/node/captures", false);
  return runs;
}

}  // namespace

TEST_CASE("findings from every recorded input match their rule's declaration, and every rule fires on one") {
  std::set<std::string> fired;
  size_t checked = 0;
  for (const auto& argv : recorded_inputs()) {
    CAPTURE(argv[argv.size() - 1]);
    auto r = test::run(argv);
    REQUIRE(r.exit_code == 0);
    auto report = nlohmann::json::parse(r.out);
    for (const auto& f : report["findings"]) {
      std::string rule = f["rule"];
      CAPTURE(rule);
      const RuleSpec* spec = find_rule(rule);
      REQUIRE(spec);
      fired.insert(rule);
      CHECK(f["category"] == std::string(to_string(spec->category)));
      CHECK_FALSE(f["title"].get<std::string>().empty());
      CHECK_FALSE(f["remediation"]["summary"].get<std::string>().empty());
      CHECK(f["thresholds"].size() == spec->thresholds.size());
      bool fleet = f["source"]["probe"] == "prometheus";
      for (const auto& [key, value] : f["evidence"].items()) {
        CAPTURE(key);
        bool fleet_key = fleet && std::find(kFleetEvidenceKeys.begin(), kFleetEvidenceKeys.end(), key) !=
                                      kFleetEvidenceKeys.end();
        CHECK((fleet_key || std::find(spec->evidence_keys.begin(), spec->evidence_keys.end(), key) !=
                                spec->evidence_keys.end()));
      }
      ++checked;
    }
  }
  CHECK(checked > 0);
  for (const auto& spec : rule_catalog()) {
    std::string id(spec.id);
    CAPTURE(id);
    CHECK_MESSAGE(fired.count(id),
                  "fires on no recorded input (fixture, sample evidence, trace capture): "
                  "record one (tests/tools/record-evidence.sh)");
  }
}
