// Rules as data, checked generically (osquery's spec-vs-output idea): every finding any probe
// produces from any fixture carries only the evidence keys its rule declares.
#include <doctest/doctest.h>

#include <map>

#include <filesystem>
#include <fstream>

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

TEST_CASE("findings from every fixture match their rule's declaration") {
  namespace fs = std::filesystem;
  size_t checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(test::source_dir() + "/tests/fixtures")) {
    if (entry.path().filename().string().find(".evidence.json") == std::string::npos) continue;
    CAPTURE(entry.path().string());
    auto doc = nlohmann::json::parse(std::ifstream(entry.path()));
    Report report = judge_evidence(evidence_from_json(doc), Settings{});
    for (const auto& f : report.findings) {
      CAPTURE(f.rule);
      const RuleSpec* spec = find_rule(f.rule);
      REQUIRE(spec);
      CHECK(f.category == spec->category);
      CHECK_FALSE(f.title.empty());
      CHECK_FALSE(f.remediation.summary.empty());
      CHECK(f.thresholds.size() == spec->thresholds.size());
      for (const auto& [key, value] : f.evidence.items()) {
        CAPTURE(key);
        CHECK(std::find(spec->evidence_keys.begin(), spec->evidence_keys.end(), key) !=
              spec->evidence_keys.end());
      }
      ++checked;
    }
  }
  CHECK(checked > 0);
}
