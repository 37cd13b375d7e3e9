// Trace "collector": reads the files (I/O) and assembles requests. Offline: never waits.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "probes/probe.hpp"
#include "probes/traces/assemble.hpp"

namespace cp::traces {

// The trace analysis' options with their defaults, declared once for every probe that feeds it
// (traces, otlp).
std::map<std::string, double, std::less<>> analysis_options();
// An assembler set up with `probe`'s analysis options.
Assembler assembler_for(const CollectContext& ctx, std::string_view probe);

Collected collect(const Target& target, const CollectContext& ctx);

}  // namespace cp::traces
