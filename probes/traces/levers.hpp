// The measurements the scaling advice reads from traces: reads repeated within one request and the
// share of request time spent in the database.
#pragma once

#include <map>
#include <string>

#include "core/lever_inputs.hpp"
#include "core/model.hpp"
#include "probes/traces/snapshot.hpp"

namespace cp::traces {

TraceLoad trace_load(const Snapshot& s, const std::string& target,
                     const std::map<Category, double>& attribution);

}  // namespace cp::traces
