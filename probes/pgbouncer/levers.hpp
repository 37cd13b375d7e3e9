// The measurements the scaling advice reads from PgBouncer: live settings and pool occupancy.
#pragma once

#include <string>

#include "core/lever_inputs.hpp"
#include "probes/pgbouncer/snapshot.hpp"

namespace cp::pgb {

BouncerLoad bouncer_load(const Snapshot& s, const std::string& target);

}  // namespace cp::pgb
