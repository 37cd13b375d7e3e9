// Trace rules: pure functions from the aggregated snapshot to findings, metrics and the measured
// time attribution the ranker weighs.
#pragma once

#include <vector>

#include "core/rule_spec.hpp"
#include "core/settings.hpp"
#include "probes/probe.hpp"
#include "probes/traces/snapshot.hpp"

namespace cp::traces {

std::vector<Finding> n_plus_one(const Snapshot& s, const RuleParams& p);
std::vector<Finding> repeated_identical_calls(const Snapshot& s, const RuleParams& p);
std::vector<Finding> slow_statements(const Snapshot& s, const RuleParams& p);
std::vector<Finding> slow_external_calls(const Snapshot& s, const RuleParams& p);
std::vector<Finding> repeated_external_calls(const Snapshot& s, const RuleParams& p);
std::vector<Finding> sequential_external_calls(const Snapshot& s, const RuleParams& p);
std::vector<Finding> capped_concurrency(const Snapshot& s, const RuleParams& p);
std::vector<Finding> external_errors(const Snapshot& s, const RuleParams& p);
std::vector<Finding> slow_links(const Snapshot& s, const RuleParams& p);
std::vector<Finding> self_time_hotspots(const Snapshot& s, const RuleParams& p);

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry (and the otlp probe)

}  // namespace cp::traces
