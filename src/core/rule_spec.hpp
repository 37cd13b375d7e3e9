// Rules as data: what each rule judges, its default thresholds with their sources, and the fix.
// Every probe declares its rules in one table in its rules file (probes/X/rules.cpp); the registry
// (probes/registry.cpp) gathers them for `chokepoint rules`, the config validation and the gate.
#pragma once

#include <array>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace cp {

// The source a finding shows for a threshold set in chokepoint.toml.
inline constexpr std::string_view kConfiguredSource = "chokepoint.toml (--config)";

// Which statistics a threshold applies to, against the sampling window (--window).
enum class WindowScope {
  any,         // the same over any window: a share, a duration, a count per request or per sample
  window,      // only in a window (--window > 0): a rate or time share standing for a count floor
  cumulative,  // only to one snapshot of cumulative counters (--window 0); a `window` one stands for it
};

struct ThresholdSpec {
  std::string_view name;  // unit in the name or in `unit`: min_table_rows, p95_ms …
  double value;
  std::string_view unit;
  std::string_view meaning;
  std::string_view source;  // where the default comes from
  WindowScope scope = WindowScope::any;
};

// A rate or a time share over the window ("calls/s", "ms/s", or declared for the window only):
// what it takes to cross it grows with the window, so a 10 s and a 60 s window judge alike.
bool scales_with_window(const ThresholdSpec& t);
std::string_view to_string(WindowScope scope);  // "any", "window", "cumulative"

struct RuleSpec {
  std::string_view id;
  Category category;
  std::string_view fires_when;
  std::string_view fix;
  std::vector<ThresholdSpec> thresholds;
  std::vector<std::string_view> evidence_keys;  // every key a finding's evidence may carry
  // A rule whose findings always have one severity declares it; the others decide it from
  // thresholds named high_…, critical_… (or medium_…).
  std::optional<Severity> fixed_severity = std::nullopt;
  const ThresholdSpec* threshold(std::string_view name) const;
};

// A metric the gate compares between a run and its baseline: the direction that is worse and an
// absolute floor under which a change is noise (2 ms -> 3 ms is not a 50 % regression).
struct GatedMetric {
  std::string_view name;
  int worse;  // +1: higher is worse, -1: lower is worse
  double floor;
};

// The effective thresholds of one rule: defaults with the user's overrides applied.
class RuleParams {
 public:
  RuleParams(const RuleSpec& spec, const std::map<std::string, double, std::less<>>& overrides);
  // Throws std::logic_error for a name the rule does not declare: a programming error caught by tests.
  double operator[](std::string_view name) const;
  const RuleSpec& spec() const { return *spec_; }

  // A finding pre-filled with id (rule + subject), rule, category, the thresholds judged against
  // and the rule's generic fix.
  Finding make_finding(std::string_view subject) const;

 private:
  const RuleSpec* spec_;
  std::map<std::string, double, std::less<>> values_;
  std::map<std::string, bool, std::less<>> overridden_;
};

std::string make_finding_id(std::string_view rule, std::string_view subject);

// Evidence keys any rule's finding carries when a fleet source (--prometheus) measured it: which
// instance, its kind and labels, and what measured it. Beside the rule's own evidence_keys.
inline constexpr std::array<std::string_view, 4> kFleetEvidenceKeys = {"instance", "instance_kind",
                                                                       "instance_labels", "measured_by"};

}  // namespace cp
