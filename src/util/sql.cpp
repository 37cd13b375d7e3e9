#include "util/sql.hpp"

#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>

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

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The leading keywords of a statement: "ALTER ROLE", "CREATE USER", "SET", "SELECT".
std::string command_of(std::string_view text) {
  std::string out;
  size_t i = 0;
  for (int words = 0; words < 3; ++words) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))) break;
    std::string word = lower(text.substr(start, i - start));
    // Two words for DDL ("ALTER ROLE", "CREATE USER MAPPING"), one otherwise.
    if (words > 0 && !(out == "create" || out == "alter" || out == "drop" || out == "create user" ||
                       out == "alter user" || out == "drop user"))
      break;
    out += (out.empty() ? "" : " ") + word;
  }
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out.empty() ? std::string("statement") : out;
}

bool plain_query(std::string_view command) {
  for (std::string_view q : {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "TABLE", "MERGE"})
    if (command == q) return true;
  return false;
}

bool has_literal(std::string_view text) {
  return text.find('\'') != std::string_view::npos || text.find("$$") != std::string_view::npos;
}

std::string cut_before_literal(const std::string& raw) {
  // A digit inside an identifier (t1, col2) is not a literal.
  size_t cut = 0;
  for (; cut < raw.size(); ++cut) {
    char c = raw[cut];
    if (c == '\'' || c == '"' || c == '$') break;
    if (std::isdigit(static_cast<unsigned char>(c)) &&
        (cut == 0 || !(std::isalnum(static_cast<unsigned char>(raw[cut - 1])) || raw[cut - 1] == '_')))
      break;
  }
  std::string out = raw.substr(0, cut);
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return cut < raw.size() ? out + " …" : out;
}

}  // namespace

bool mentions_credentials(std::string_view text) {
  // One pass without allocating: trace readers call this for every database span. ASCII case
  // folding inline (std::tolower is a call into the C library per character).
  static constexpr std::string_view kWords[] = {"password", "passwd", "dblink", "user mapping", "secret"};
  auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch | 0x20) : ch; };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = lower(text[i]);
    if (c != 'p' && c != 'd' && c != 'u' && c != 's') continue;
    for (std::string_view word : kWords) {
      if (word[0] != c || text.size() - i < word.size()) continue;
      size_t k = 1;
      while (k < word.size() && lower(text[i + k]) == word[k]) ++k;
      if (k == word.size()) return true;
    }
  }
  return false;
}

std::optional<std::string> credential_redaction(std::string_view normalized) {
  if (!mentions_credentials(normalized)) return std::nullopt;
  std::string command = command_of(normalized);
  if (plain_query(command) && !has_literal(normalized)) return std::nullopt;
  return command + " ***";
}

bool mentions_column(const nlohmann::json& node) {
  if (node.is_object()) {
    if (node.contains("ColumnRef") || node.contains("SubLink")) return true;
    for (const auto& [k, v] : node.items())
      if (mentions_column(v)) return true;
  } else if (node.is_array()) {
    for (const auto& v : node)
      if (mentions_column(v)) return true;
  }
  return false;
}

void add_unique(std::vector<std::string>& names, const std::string& name) {
  if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

std::string statement_text_for_output(const std::string& raw) {
  if (raw.empty()) return raw;
  std::optional<std::string> normalized = normalize_sql(raw);
  if (!normalized) {
    if (mentions_credentials(raw)) return command_of(raw) + " ***";
    return cut_before_literal(raw);
  }
  if (auto redacted = credential_redaction(*normalized)) return *redacted;
  return *normalized;
}

}  // namespace cp
