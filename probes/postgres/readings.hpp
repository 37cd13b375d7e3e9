// What the postgres collector reads from the statistics views and the catalogue, at the start and
// the end of the window: statements (pg_stat_statements), the database, tables, indexes, time
// columns, settings. Internal to the collector.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/postgres/session.hpp"
#include "probes/postgres/snapshot.hpp"

namespace cp::pg {

using StatementMap = std::unordered_map<int64_t, Statement>;

// Sums entries of the same queryid (one per role using it). With texts, chokepoint's own
// statements go to `own` instead (its load on the server, reported, never judged).
StatementMap read_statements(Connection& s, const std::string& schema, int version, bool with_text,
                             StatementMap* own = nullptr);
// The statements' counters over the window (all of them when `cumulative`), by execution time.
std::vector<Statement> statement_deltas(const StatementMap& start, const StatementMap& end, bool cumulative);

std::map<std::string, double> read_database(Connection& s);
// One catalogue read: sizes, scan and write counters, and where the table sits in a partition tree.
std::vector<Table> read_tables(Connection& s);
void subtract_table_counters(std::vector<Table>& end, const std::vector<Table>& start);
// Time columns of user tables and the spread of their values from the planner's histogram: one
// catalogue read, no table is scanned.
std::vector<TimeColumn> read_time_columns(Connection& s);
// One catalogue read: every index with its key columns (in order, which of them descending), its
// flags, its size and how often it was scanned since the statistics reset.
std::vector<Index> read_indexes(Connection& s);
std::map<std::string, std::string> read_settings(Connection& s);

}  // namespace cp::pg
