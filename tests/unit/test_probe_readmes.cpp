// The rule table in each probe's README is generated from the probe's declarations (the rule table
// in its rules.cpp), so the two cannot disagree. To rewrite the READMEs after changing a rule:
//   CHOKEPOINT_WRITE_READMES=1 build/tests/unit_tests -tc='probe READMEs*'
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "core/catalog.hpp"
#include "harness.hpp"
#include "probes/probe.hpp"

using namespace cp;

namespace {

constexpr std::string_view kBegin =
    "<!-- rules: generated from the probe's rule table (see tests/unit/test_probe_readmes.cpp) -->\n";
constexpr std::string_view kEnd = "<!-- end of generated rules -->\n";

std::string number(double v) {
  return v == static_cast<double>(static_cast<long long>(v)) && std::abs(v) < 1e15 ? fmt::format("{:.0f}", v)
                                                                                   : fmt::format("{}", v);
}

std::string declared_by(std::string_view rule) {
  for (const auto& k : probe_kinds())
    for (const auto& spec : k.rules.declared)
      if (spec.id == rule) return std::string(k.name);
  return "?";
}

// The markdown table of the rules one probe judges: what fires each, its thresholds and defaults.
std::string rule_table_markdown(const ProbeKind& kind) {
  std::string out = std::string(kBegin) +
                    "| rule | fires when | thresholds (default; sources: `chokepoint rules RULE`) |\n"
                    "|---|---|---|\n";
  for (auto id : kind.rules.judged) {
    const RuleSpec* spec = find_rule(id);
    REQUIRE(spec);
    std::string thresholds;
    for (const auto& t : spec->thresholds)
      thresholds +=
          fmt::format("{}`{}` {} {}{}", thresholds.empty() ? "" : "; ", t.name, number(t.value), t.unit,
                      t.scope == WindowScope::cumulative ? " (`--window 0` only)"
                      : t.scope == WindowScope::window   ? " (in a window)"
                                                         : "");
    if (spec->fixed_severity) thresholds += fmt::format("; always {}", to_string(*spec->fixed_severity));
    std::string owner = declared_by(id);
    std::string where = owner == kind.name ? "" : fmt::format(" (declared by the {} probe)", owner);
    out += fmt::format("| `{}`{} | {} | {} |\n", id, where, spec->fires_when, thresholds);
  }
  return out + std::string(kEnd);
}

}  // namespace

TEST_CASE("probe READMEs: the rule table is the one the probe declares") {
  bool write = std::getenv("CHOKEPOINT_WRITE_READMES") != nullptr;
  for (const auto& kind : probe_kinds()) {
    if (kind.rules.declared.empty()) continue;  // a probe reusing another's rules documents that instead
    CAPTURE(kind.name);
    std::string path = test::source_dir() + "/probes/" + std::string(kind.name) + "/README.md";
    std::string text = test::slurp(path);
    auto begin = text.find(kBegin), end = text.find(kEnd);
    REQUIRE_MESSAGE((begin != std::string::npos && end != std::string::npos && begin < end),
                    "the README has no generated rule table");
    std::string wanted = rule_table_markdown(kind);
    std::string have = text.substr(begin, end + kEnd.size() - begin);
    if (write && have != wanted) {
      text.replace(begin, have.size(), wanted);
      std::ofstream(path) << text;
      continue;
    }
    CHECK_MESSAGE(have == wanted, "rewrite with CHOKEPOINT_WRITE_READMES=1 (see this test's header)");
  }
}
