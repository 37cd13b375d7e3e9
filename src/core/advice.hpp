// Advice before scaling: which lever (pooling, caching, replicas, partitioning, rate limits, more
// instances) the measurements call for, judged once after the ranking. Pure: the probes' measurements
// (LeverInputs) and the ranked report in, advice out. Each lever's thresholds are data with sources
// (advice_catalog), listed by `chokepoint rules` and overridable under [advice."ID"] in chokepoint.toml.
#pragma once

#include <string_view>
#include <vector>

#include "core/lever_inputs.hpp"
#include "core/model.hpp"
#include "core/rule_spec.hpp"
#include "core/settings.hpp"

namespace cp {

const std::vector<RuleSpec>& advice_catalog();
const RuleSpec* find_advice(std::string_view id);

// The advice for a ranked report: verdict-level advice first, then by expected gain.
std::vector<Advice> advise(const LeverInputs& in, const Report& ranked, const Settings& settings);

}  // namespace cp
