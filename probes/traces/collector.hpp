// Trace "collector": reads the files (I/O) and assembles requests. Offline: never waits.
#pragma once

#include "probes/probe.hpp"

namespace cp::traces {
Collected collect(const Target& target, const CollectContext& ctx);
}
