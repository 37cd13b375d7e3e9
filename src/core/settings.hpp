// What the user changed: per-rule level, thresholds and severity (from chokepoint.toml).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/rule_spec.hpp"

namespace cp {

enum class RuleLevel { inherit, off, warn, error };

struct RuleSetting {
  RuleLevel level = RuleLevel::inherit;
  std::map<std::string, double, std::less<>> thresholds;
  std::optional<Severity> severity;
};

struct GateSettings {
  std::optional<std::string> fail_on;  // [gate] fail_on; --fail-on wins
  double metric_tolerance = 0.25;
  RuleLevel metric_regressions = RuleLevel::warn;
  RuleLevel rules_not_run = RuleLevel::warn;  // a level = "error" rule no probe judged: note / fail
};

// [[acknowledge]]: a finding the team accepts for now. Names one finding by `id`, or findings of
// one `rule` whose evidence matches `match` (key -> value; `*` in a value matches any text).
struct AcknowledgeSetting {
  std::optional<std::string> id;
  std::optional<std::string> rule;
  std::map<std::string, std::string> match;
  std::string reason;
  std::optional<std::string> until;  // YYYY-MM-DD, the last day it holds
};

struct Settings {
  GateSettings gate;
  std::vector<AcknowledgeSetting> acknowledgements;
  std::map<std::string, RuleSetting, std::less<>> rules;
  // Collection knobs per probe kind ("postgres" -> {"explain_top": 20}); declared by the probe.
  std::map<std::string, std::map<std::string, double, std::less<>>, std::less<>> probe_options;
  // [targets."NAME".rules."ID"]: rule settings for one target (NAME = its redacted display name).
  std::map<std::string, std::map<std::string, RuleSetting, std::less<>>, std::less<>> per_target;

  // These settings with one target's section laid over them.
  Settings for_target(std::string_view target_name) const;

  RuleParams params(const RuleSpec& spec) const;
  RuleParams params(std::string_view rule) const;  // rule must be in the catalogue
  RuleLevel level(std::string_view rule) const;
  bool enabled(std::string_view rule) const { return level(rule) != RuleLevel::off; }
  std::optional<Severity> severity_override(std::string_view rule) const;
  double probe_option(std::string_view probe, std::string_view name, double fallback) const;
};

// The configured levels and severities laid over findings: rules turned off drop theirs, severity
// overrides replace the judged severity, warn/error levels mark them for the gate. The same for a
// run (diagnose) and for saved findings (compare).
void apply_rule_settings(std::vector<Finding>& findings, const Settings& settings);

}  // namespace cp
