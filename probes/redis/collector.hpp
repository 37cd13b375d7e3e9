// Redis collector: one hiredis connection; INFO at both ends of the window, CONFIG GET (when
// allowed), SLOWLOG and LATENCY LATEST, PING round trips through the window.
#pragma once

#include "probes/probe.hpp"

namespace cp::redis {
Collected collect(const Target& target, const CollectContext& ctx);
}
