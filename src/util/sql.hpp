// SQL through PostgreSQL's own parser (libpg_query): fingerprints and parse trees, never regexes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cp {

// libpg_query's fingerprint: identical for queries that differ only in literals, parameters
// ($1 vs 42) and whitespace. Stable across servers, unlike pg_stat_statements.queryid.
std::optional<uint64_t> sql_fingerprint(const std::string& query);

struct ParsedSql {
  nlohmann::json tree;  // {"version":…, "stmts":[…]} or null when it does not parse
  std::string error;
  bool ok() const { return error.empty(); }
};
ParsedSql parse_sql(const std::string& query);

// Literals replaced by $n; nullopt when the text does not parse.
std::optional<std::string> normalize_sql(const std::string& query);

}  // namespace cp
