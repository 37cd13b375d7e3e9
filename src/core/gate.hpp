// The CI gate: which findings fail the run, with or without a baseline report; metric regressions.
#pragma once

#include <optional>
#include <string>

#include "core/model.hpp"
#include "core/settings.hpp"

namespace cp {

struct GateOptions {
  std::optional<Severity> fail_on;  // nullopt = "never"
  std::optional<std::string> baseline_file;
  const Report* baseline = nullptr;
  double metric_tolerance = 0.25;                  // relative change a gated metric may move
  RuleLevel metric_regressions = RuleLevel::warn;  // warn: reported; error: fail the gate; off: not compared
  std::vector<AcknowledgeSetting> acknowledgements;  // [[acknowledge]] from the configuration
  std::string today;                                 // YYYY-MM-DD (UTC): an `until` before it has expired
};

// Whether an acknowledgement names this finding (by id, or by rule and evidence values).
bool acknowledges(const AcknowledgeSetting& ack, const Finding& finding);

// "critical|high|medium|low|never"; throws UsageError otherwise.
std::optional<Severity> parse_fail_on(const std::string& s);

// A target's display name without its port ("postgresql://app@db:54321/shop" ->
// "postgresql://app@db/shop"): what stays the same between CI runs on random ports.
std::string target_without_port(const std::string& target);

// Throws UsageError when the baseline examined other targets than this run (ports aside: CI
// services often listen on random ports).
void check_same_targets(const Report& current, const Report& baseline, const std::string& baseline_file);

// Fills report.gate and marks findings new / unchanged / regressed against the baseline.
void apply_gate(Report& report, const GateOptions& options);

}  // namespace cp
