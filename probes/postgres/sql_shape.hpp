// Pure readings of SQL text and plans through PostgreSQL's parser (libpg_query): which columns a
// scan filters on, whether a statement is a single-row lookup, whether it can be EXPLAINed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "probes/postgres/snapshot.hpp"

namespace cp::pg {

// A sequential scan in a plan tree.
struct SeqScan {
  std::string schema;
  std::string table;
  std::string node_type;  // "Seq Scan" | "Parallel Seq Scan"
  std::string filter;     // deparsed filter expression, "" when none
  double plan_rows = 0;   // rows the whole scan returns (per-worker estimate scaled for parallel scans)
  double total_cost = 0;
};
std::vector<SeqScan> seq_scans(const nlohmann::json& plan);

struct FilterColumns {
  std::vector<std::string> equality;  // col = $1, col = ANY($1)
  std::vector<std::string> range;     // col < $1, col BETWEEN …
  bool empty() const { return equality.empty() && range.empty(); }
};
FilterColumns filter_columns(const std::string& filter);

// Index column lists worth testing for a filter: all equality columns (+ the first range column),
// then each column alone when there are several. Dexter's approach, simplified.
std::vector<std::vector<std::string>> index_candidates(const FilterColumns& f);

// An existing index already leads with these columns (so suggesting it again would be a duplicate).
bool covered_by_index(const std::vector<Index>& indexes, std::string_view schema, std::string_view table,
                      const std::vector<std::string>& columns);

// SELECT … FROM one_table WHERE col = $1 [AND col2 = $2] [LIMIT …]: no join, no aggregate, no GROUP BY.
bool is_point_lookup(const std::string& query);

// One SELECT, UPDATE or DELETE statement (what chokepoint may EXPLAIN); not SELECT INTO, not utility.
bool is_explainable(const std::string& query);

// The table a statement writes (UPDATE/DELETE/INSERT) or first reads (SELECT); "" when unknown.
std::string statement_relation(const std::string& query);

std::string quote_ident(std::string_view ident);  // only when needed, PostgreSQL rules
std::string create_index_sql(std::string_view schema, std::string_view table,
                             const std::vector<std::string>& columns, bool concurrently);

}  // namespace cp::pg
