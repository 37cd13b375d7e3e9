// Rules on the indexes that exist: duplicates (one a leading prefix of another) and indexes never
// scanned on a table that is written to. Pure: snapshot + thresholds -> findings.
#pragma once

#include <vector>

#include "core/model.hpp"
#include "core/rule_spec.hpp"
#include "probes/postgres/rules.hpp"

namespace cp::pg {

// Rows written per second to a table: over the window, or since the counters were reset.
double table_writes_per_s(const Snapshot& s, const Table& t);

std::vector<Finding> duplicate_index(const Workload& w, const RuleParams& p);
// Indexes already reported as duplicates are left out.
std::vector<Finding> unused_index(const Workload& w, const RuleParams& p);

}  // namespace cp::pg
