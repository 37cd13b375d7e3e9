// PostgreSQL collector: I/O only. One read-only session per target, readings at the start and the
// end of the window, generic plans (EXPLAIN without ANALYZE) and HypoPG what-if indexes.
#pragma once

#include "probes/postgres/snapshot.hpp"
#include "probes/probe.hpp"

namespace cp::pg {

Collected collect(const Target& target, const CollectContext& ctx);

}  // namespace cp::pg
