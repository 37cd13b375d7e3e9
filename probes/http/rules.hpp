// HTTP dependency rules: pure functions of the measured samples.
#pragma once

#include "core/settings.hpp"
#include "probes/http/snapshot.hpp"
#include "probes/probe.hpp"

namespace cp::http {
Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry
}  // namespace cp::http
