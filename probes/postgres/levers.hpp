// The measurements the scaling advice reads, derived from the snapshot (pure, no judgement):
// statement time by type, table reads and writes, concurrency, clients, session features.
#pragma once

#include <string>

#include "core/lever_inputs.hpp"
#include "probes/postgres/rules.hpp"

namespace cp::pg {

PostgresLoad postgres_load(const Workload& w, const std::string& target);

}  // namespace cp::pg
