// Host and container rules: pure functions of the snapshot.
#pragma once

#include <optional>
#include <vector>

#include "core/rule_spec.hpp"
#include "core/settings.hpp"
#include "probes/host/snapshot.hpp"
#include "probes/probe.hpp"

namespace cp::host {

std::vector<Finding> cpu_throttling(const Snapshot& s, const RuleParams& p);
std::vector<Finding> cpu_saturation(const Snapshot& s, const RuleParams& p);
std::vector<Finding> memory_pressure(const Snapshot& s, const RuleParams& p);
std::vector<Finding> network_drops(const Snapshot& s, const RuleParams& p);
// CPU the target used over the window (cores): its cgroup's, or a --pid's own in the root cgroup
// (process_alone); none without a window or a reading.
std::optional<double> cpu_usage_cores(const Snapshot& s);
// What the report says about the CPU limit: "no limit", "not measurable" or the ratio.
std::string cpu_limit_note(const Snapshot& s);

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry

}  // namespace cp::host
