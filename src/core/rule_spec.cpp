#include "core/rule_spec.hpp"

#include <stdexcept>

#include "util/hash.hpp"

namespace cp {

bool scales_with_window(const ThresholdSpec& t) {
  return t.scope == WindowScope::window || t.unit.ends_with("/s");
}

std::string_view to_string(WindowScope scope) {
  switch (scope) {
    case WindowScope::window:
      return "window";
    case WindowScope::cumulative:
      return "cumulative";
    case WindowScope::any:
      break;
  }
  return "any";
}

const ThresholdSpec* RuleSpec::threshold(std::string_view name) const {
  for (const auto& t : thresholds)
    if (t.name == name) return &t;
  return nullptr;
}

RuleParams::RuleParams(const RuleSpec& spec, const std::map<std::string, double, std::less<>>& overrides)
    : spec_(&spec) {
  for (const auto& t : spec.thresholds) values_.emplace(std::string(t.name), t.value);
  for (const auto& [name, value] : overrides) {
    auto it = values_.find(name);
    if (it == values_.end())
      throw std::logic_error("threshold " + name + " is not declared by " + std::string(spec.id));
    it->second = value;
    overridden_[name] = true;
  }
}

double RuleParams::operator[](std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw std::logic_error("rule " + std::string(spec_->id) + " reads undeclared threshold " +
                           std::string(name));
  return it->second;
}

std::string make_finding_id(std::string_view rule, std::string_view subject) {
  // Two independent 64-bit hashes: 128 bits keeps accidental collisions out of baselines.
  uint64_t a = fnv1a64(subject, fnv1a64("\n", fnv1a64(rule)));
  uint64_t b = fnv1a64(rule, fnv1a64("chokepoint\n", fnv1a64(subject)));
  return hex64(a) + hex64(b);
}

Finding RuleParams::make_finding(std::string_view subject) const {
  Finding f;
  f.id = make_finding_id(spec_->id, subject);
  f.rule = std::string(spec_->id);
  f.category = spec_->category;
  f.remediation.summary = std::string(spec_->fix);  // rules replace it when they know more
  if (spec_->fixed_severity) f.severity = *spec_->fixed_severity;
  for (const auto& t : spec_->thresholds) {
    // An overridden value comes from the user's configuration, not from the default's source.
    bool overridden = overridden_.count(t.name) > 0;
    f.thresholds[std::string(t.name)] = {
        {"value", (*this)[t.name]}, {"unit", t.unit}, {"source", overridden ? kConfiguredSource : t.source}};
  }
  return f;
}

}  // namespace cp
