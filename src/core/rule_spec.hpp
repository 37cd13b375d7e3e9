// Rules as data: what each rule judges, its default thresholds with their sources, and the fix.
// Every probe declares its rules in one static table; `chokepoint rules` and the config
// validation read the same tables (see probes/registry.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace cp {

// The source a finding shows for a threshold set in chokepoint.toml.
inline constexpr std::string_view kConfiguredSource = "chokepoint.toml (--config)";

struct ThresholdSpec {
  std::string_view name;  // unit in the name or in `unit`: min_table_rows, p95_ms …
  double value;
  std::string_view unit;
  std::string_view meaning;
  std::string_view source;  // where the default comes from
};

struct RuleSpec {
  std::string_view id;
  Category category;
  std::string_view fires_when;
  std::string_view fix;
  std::vector<ThresholdSpec> thresholds;
  std::vector<std::string_view> evidence_keys;  // every key a finding's evidence may carry
  const ThresholdSpec* threshold(std::string_view name) const;
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

}  // namespace cp
