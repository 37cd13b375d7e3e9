// PgBouncer collector: the admin console through libpq (simple query protocol, one connection).
#pragma once

#include "probes/probe.hpp"

namespace cp::pgb {
Collected collect(const Target& target, const CollectContext& ctx);
}
