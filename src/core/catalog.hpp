// The rule catalogue: every rule id (API, see CONTRACT.md) with its category, default thresholds
// with their sources, evidence keys and fix. `chokepoint rules` prints it. Core holds no rule: each
// probe declares its own in the table of its rules file, and probes/registry.cpp gathers them.
#pragma once

#include <string_view>
#include <vector>

#include "core/rule_spec.hpp"

namespace cp {

const std::vector<RuleSpec>& rule_catalog();
const RuleSpec* find_rule(std::string_view id);

}  // namespace cp
