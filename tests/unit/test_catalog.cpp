// Rules as data, checked generically (osquery's spec-vs-output idea): every finding any probe
// produces from any fixture carries only the evidence keys its rule declares.
#include <doctest/doctest.h>

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

TEST_CASE("every probe judges only catalogued rules, and every catalogued rule has a probe") {
  for (const auto& k : probe_kinds())
    for (auto id : k.rules) {
      CAPTURE(id);
      CHECK(find_rule(id) != nullptr);
    }
  for (const auto& r : rule_catalog()) {
    bool judged = false;
    for (const auto& k : probe_kinds())
      for (auto id : k.rules) judged = judged || id == r.id;
    CAPTURE(r.id);
    CHECK(judged);
  }
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
