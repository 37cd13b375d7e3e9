// SQL through PostgreSQL's own parser (libpg_query): fingerprints and parse trees, never regexes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// True when a statement names a credential (role passwords, dblink / postgres_fdw connection
// strings and user mappings, SET … password …): such a text is never shown beyond its command.
bool mentions_credentials(std::string_view text);

// `text` with constants already replaced: "ALTER ROLE ***" when it carries a credential (any
// statement other than a plain query that mentions one, or a query with a literal left), nullopt
// when it may be shown.
std::optional<std::string> credential_redaction(std::string_view normalized);

// The only form of a statement text that may leave a probe (reports, evidence, messages):
// constants replaced by $n; a statement that carries a credential reduced to its command
// ("ALTER ROLE ***") unless it is a plain query whose every literal was replaced; a text that does
// not parse (truncated by the server) cut before its first literal.
std::string statement_text_for_output(const std::string& raw);

// Reading parse trees: true when an expression reads a column or a subquery somewhere below it (it
// is no constant).
bool mentions_column(const nlohmann::json& node);
// Appends a name read from a tree unless it is empty or already listed.
void add_unique(std::vector<std::string>& names, const std::string& name);

}  // namespace cp
