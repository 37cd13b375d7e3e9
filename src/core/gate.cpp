#include "core/gate.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace cp {

std::optional<Severity> parse_fail_on(const std::string& s) {
  if (s == "never") return std::nullopt;
  auto sev = severity_from_string(s);
  if (!sev || *sev == Severity::info)
    throw UsageError("--fail-on: expected critical, high, medium, low or never, not \"" + s + "\"");
  return sev;
}

void apply_gate(Report& report, const GateOptions& options) {
  Gate& g = report.gate;
  g.fail_on = options.fail_on ? std::string(to_string(*options.fail_on)) : "never";
  g.baseline.file = options.baseline_file;
  g.reasons.clear();
  for (const auto& f : report.findings) {
    bool fails = f.level == "error" || (f.level != "warn" && options.fail_on && f.severity >= *options.fail_on);
    if (fails)
      g.reasons.push_back(fmt::format("{} {} on {}: {}", f.rule, to_string(f.severity), f.component, f.title));
  }
  g.status = g.reasons.empty() ? "pass" : "fail";
}

}  // namespace cp
