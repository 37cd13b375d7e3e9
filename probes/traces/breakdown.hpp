// What the traces probe reports besides findings: notes on its input, the per-route breakdown of
// where request time goes, its metrics and the measured attribution per category.
#pragma once

#include "probes/probe.hpp"
#include "probes/traces/snapshot.hpp"

namespace cp::traces {

// The requests' critical paths add up to their duration: shares are of the end-user request.
inline double attributed_ms(const Route& r) {
  return r.database_ms + r.cache_ms + r.external_ms + r.network_ms + r.code_ms;
}

void add_notes(const Snapshot& s, Judgement& j);
void add_breakdowns(const Snapshot& s, const Target& target, Judgement& j);

}  // namespace cp::traces
