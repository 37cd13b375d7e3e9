// Redis rules: pure functions of the snapshot (INFO deltas, SLOWLOG, CONFIG).
#pragma once

#include <string_view>
#include <vector>

#include "core/settings.hpp"
#include "probes/probe.hpp"
#include "probes/redis/snapshot.hpp"

namespace cp::redis {

// Over the window, chokepoint's own commands left out (the snapshot's tally): commands processed,
// and the calls of one INFO commandstats entry ("get", "client|list"; Redis < 7 counts a
// container's subcommands under the container's name, "client").
double commands_processed(const Snapshot& s);
double command_calls(const Snapshot& s, std::string_view command);
// Connected clients at the window's end, chokepoint's own left out.
double connected_clients(const Snapshot& s);

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry
}  // namespace cp::redis
