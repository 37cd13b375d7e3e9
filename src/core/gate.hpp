// The CI gate: which findings fail the run, with or without a baseline report.
#pragma once

#include <optional>
#include <string>

#include "core/model.hpp"

namespace cp {

struct GateOptions {
  std::optional<Severity> fail_on;  // nullopt = "never"
  std::optional<std::string> baseline_file;
  const Report* baseline = nullptr;
};

// "critical|high|medium|low|never"; throws UsageError otherwise.
std::optional<Severity> parse_fail_on(const std::string& s);

// Fills report.gate and marks findings new / unchanged / regressed against the baseline.
void apply_gate(Report& report, const GateOptions& options);

}  // namespace cp
