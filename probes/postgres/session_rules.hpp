// Rules on sessions and connections (pg_stat_activity samples, pg_stat_database, connect timing).
// Pure: snapshot in, findings out.
#pragma once

#include <string>
#include <vector>

#include "core/rule_spec.hpp"
#include "probes/postgres/rules.hpp"

namespace cp::pg {

std::vector<Finding> lock_contention(const Workload& w, const RuleParams& p);
std::vector<Finding> connection_saturation(const Workload& w, const RuleParams& p);  // db.pool_saturation
std::vector<Finding> no_connection_pooling(const Workload& w, const RuleParams& p);
std::vector<Finding> idle_in_transaction(const Workload& w, const RuleParams& p);

// Connections PostgreSQL lets clients use: max_connections minus the reserved slots.
double usable_connections(const Snapshot& s);
// A server setting (pg_settings) as a number; 0 when it was not read.
double setting_number(const Snapshot& s, const std::string& name);

}  // namespace cp::pg
