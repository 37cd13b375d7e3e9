// HTTP collector (libcurl): repeated GETs through the window at a modest, capped rate, alternating a
// reused connection and fresh ones, so connection set-up is measured, not guessed.
#pragma once

#include "probes/probe.hpp"

namespace cp::http {

// Hard limits: chokepoint must never load-test a third party by accident.
inline constexpr double kMaxRatePerS = 10;
inline constexpr double kMaxRequests = 300;

Collected collect(const Target& target, const CollectContext& ctx);

}  // namespace cp::http
