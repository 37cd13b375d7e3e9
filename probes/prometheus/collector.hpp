// Prometheus collector: discovers which exporter metrics exist in the window, then sends one PromQL
// expression per signal (query_catalog), each aggregated by the engine, at the window's end.
#pragma once

#include "probes/probe.hpp"

namespace cp::prom {

Collected collect(const Target& target, const CollectContext& ctx);

}  // namespace cp::prom
