#include "core/settings.hpp"

#include <stdexcept>

#include "core/catalog.hpp"

namespace cp {

namespace {
const std::map<std::string, double, std::less<>> kNoOverrides;
}

RuleParams Settings::params(const RuleSpec& spec) const {
  auto it = rules.find(spec.id);
  return RuleParams(spec, it == rules.end() ? kNoOverrides : it->second.thresholds);
}

RuleParams Settings::params(std::string_view rule) const {
  const RuleSpec* spec = find_rule(rule);
  if (!spec) throw std::logic_error("rule " + std::string(rule) + " is not in the catalogue");
  return params(*spec);
}

Settings Settings::for_target(std::string_view target_name) const {
  Settings out = *this;
  auto it = per_target.find(target_name);
  if (it == per_target.end()) return out;
  for (const auto& [rule, overlay] : it->second) {
    RuleSetting& r = out.rules[rule];
    if (overlay.level != RuleLevel::inherit) r.level = overlay.level;
    if (overlay.severity) r.severity = overlay.severity;
    for (const auto& [k, v] : overlay.thresholds) r.thresholds[k] = v;
  }
  return out;
}

RuleLevel Settings::level(std::string_view rule) const {
  auto it = rules.find(rule);
  return it == rules.end() ? RuleLevel::inherit : it->second.level;
}

std::optional<Severity> Settings::severity_override(std::string_view rule) const {
  auto it = rules.find(rule);
  return it == rules.end() ? std::nullopt : it->second.severity;
}

double Settings::probe_option(std::string_view probe, std::string_view name, double fallback) const {
  auto p = probe_options.find(probe);
  if (p == probe_options.end()) return fallback;
  auto v = p->second.find(name);
  return v == p->second.end() ? fallback : v->second;
}

void apply_rule_settings(std::vector<Finding>& findings, const Settings& settings) {
  std::erase_if(findings, [&](const Finding& f) { return !settings.enabled(f.rule); });
  for (auto& f : findings) {
    if (auto sev = settings.severity_override(f.rule)) f.severity = *sev;
    RuleLevel level = settings.level(f.rule);
    f.level = level == RuleLevel::warn ? "warn" : level == RuleLevel::error ? "error" : "";
  }
}

}  // namespace cp
