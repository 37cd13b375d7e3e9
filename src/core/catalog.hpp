// The rule catalogue: one table of every rule id (API, see CONTRACT.md), its category, default
// thresholds with their sources, evidence keys and fix. `chokepoint rules` prints it.
#pragma once

#include <string_view>
#include <vector>

#include "core/rule_spec.hpp"

namespace cp {

const std::vector<RuleSpec>& rule_catalog();
const RuleSpec* find_rule(std::string_view id);

}  // namespace cp
