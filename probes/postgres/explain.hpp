// Generic plans of the top statements (EXPLAIN without ANALYZE: planned, never run) and, with
// HypoPG, the same plans with hypothetical indexes. Internal to the postgres collector.
#pragma once

#include <string>

#include "probes/postgres/session.hpp"
#include "probes/postgres/snapshot.hpp"

namespace cp::pg {

// The statement's plan and what-ifs, or the error that stopped them. `wider_search_path` is read
// once (when a table is not on chokepoint's search_path) and reused for the next statements.
Plan explain_statement(Connection& s, const Statement& st, const Snapshot& snap, double whatif_min_rows,
                       std::string& wider_search_path);

}  // namespace cp::pg
