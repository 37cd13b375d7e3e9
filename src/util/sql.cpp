#include "util/sql.hpp"

#include <pg_query.h>

namespace cp {

std::optional<uint64_t> sql_fingerprint(const std::string& query) {
  PgQueryFingerprintResult r = pg_query_fingerprint(query.c_str());
  std::optional<uint64_t> out;
  if (!r.error) out = r.fingerprint;
  pg_query_free_fingerprint_result(r);
  return out;
}

ParsedSql parse_sql(const std::string& query) {
  PgQueryParseResult r = pg_query_parse(query.c_str());
  ParsedSql out;
  if (r.error) {
    out.error = r.error->message ? r.error->message : "parse error";
  } else {
    out.tree = nlohmann::json::parse(r.parse_tree, nullptr, false);
    if (out.tree.is_discarded()) out.error = "libpg_query returned unreadable JSON";
  }
  pg_query_free_parse_result(r);
  return out;
}

std::optional<std::string> normalize_sql(const std::string& query) {
  PgQueryNormalizeResult r = pg_query_normalize(query.c_str());
  std::optional<std::string> out;
  if (!r.error && r.normalized_query) out = std::string(r.normalized_query);
  pg_query_free_normalize_result(r);
  return out;
}

}  // namespace cp
