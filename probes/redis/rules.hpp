// Redis rules: pure functions of the snapshot (INFO deltas, SLOWLOG, CONFIG).
#pragma once

#include <vector>

#include "core/settings.hpp"
#include "probes/probe.hpp"
#include "probes/redis/snapshot.hpp"

namespace cp::redis {
Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry
}  // namespace cp::redis
