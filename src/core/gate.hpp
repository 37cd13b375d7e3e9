// The CI gate: which findings fail the run, with or without a baseline report; metric regressions.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

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
  std::vector<std::string> error_rules;              // rules set to level = "error" (anywhere in the config)
  RuleLevel rules_not_run = RuleLevel::warn;  // such a rule no probe judged: warn = a note, error = fail
  // Where fail_on came from, as the gate note names it: "--fail-on" or "[gate] fail_on".
  std::string fail_on_origin = "--fail-on";
  // Rules set to level = "warn" or "off" in the configuration: no finding of theirs reaches fail_on.
  std::set<std::string> rules_below_gate;
};

// Whether an acknowledgement names this finding (by id, or by rule and evidence values).
bool acknowledges(const AcknowledgeSetting& ack, const Finding& finding);

// "critical|high|medium|low|never"; throws UsageError otherwise.
std::optional<Severity> parse_fail_on(const std::string& s);

// A target's display name without its port ("postgresql://app@db:54321/shop" ->
// "postgresql://app@db/shop"): what stays the same between CI runs on random ports.
std::string target_without_port(const std::string& target);

// What a target is, independent of how this run reached it: "postgres 127.0.0.1/shop" (host and
// database; no user, no port: CI services listen on random ports), "traces service shop-api" (one
// per service the trace files showed; the file names differ per build).
std::set<std::string> target_identities(const Report& report);

// Throws UsageError when the baseline and this run have no target in common; returns a warning
// (empty when they examined the same targets) when they only share some.
std::string check_same_targets(const Report& current, const Report& baseline,
                               const std::string& baseline_file);

// Fills report.gate and marks findings new / unchanged / regressed against the baseline. The status
// is "fail" when a finding (or metric, or unjudged error rule) fails it, else "incomplete" when a
// probe could not examine its target, else "pass".
void apply_gate(Report& report, const GateOptions& options);

// The process exit code of a finished report (CONTRACT.md): 3 when a target could not be examined
// (it wins: the diagnosis is incomplete), 1 when the gate failed, else 0.
int exit_code_of(const Report& report);

}  // namespace cp
