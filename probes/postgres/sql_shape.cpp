#include "probes/postgres/sql_shape.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "util/sql.hpp"

namespace cp::pg {

namespace {

// libpg_query's parse trees and EXPLAIN's plans: nlohmann::json, not the ordered cp::json of reports.
using PlainJson = nlohmann::json;

void collect_seq_scans(const PlainJson& node, int workers, std::vector<SeqScan>& out) {
  if (!node.is_object()) return;
  std::string type = node.value("Node Type", "");
  if (type == "Gather" || type == "Gather Merge") workers = node.value("Workers Planned", 0);
  if (type == "Seq Scan" || type == "Parallel Seq Scan") {
    // PostgreSQL 15 says "Seq Scan" with "Parallel Aware": true; older servers "Parallel Seq Scan".
    bool parallel = type == "Parallel Seq Scan" || node.value("Parallel Aware", false);
    SeqScan s;
    s.schema = node.value("Schema", "public");
    s.table = node.value("Relation Name", "");
    s.node_type = parallel ? "Parallel Seq Scan" : "Seq Scan";
    s.filter = node.value("Filter", "");
    s.plan_rows = node.value("Plan Rows", 0.0);
    // A parallel scan's estimate is per process: workers plus the participating leader.
    if (parallel) s.plan_rows *= (workers + 1);
    s.total_cost = node.value("Total Cost", 0.0);
    out.push_back(std::move(s));
  }
  if (auto it = node.find("Plans"); it != node.end() && it->is_array())
    for (const auto& child : *it) collect_seq_scans(child, workers, out);
}

// The column a side of a comparison names, through casts; "" when it is not a plain column.
std::string column_of(const PlainJson& expr) {
  if (!expr.is_object()) return "";
  if (auto cast = expr.find("TypeCast"); cast != expr.end())
    return column_of(cast->value("arg", PlainJson()));
  auto ref = expr.find("ColumnRef");
  if (ref == expr.end()) return "";
  const auto& fields = (*ref)["fields"];
  if (!fields.is_array() || fields.empty()) return "";
  const auto& last = fields.back();
  if (!last.contains("String")) return "";  // A_Star
  return last["String"].value("sval", "");
}

std::string operator_name(const PlainJson& a_expr) {
  const auto& name = a_expr.value("name", PlainJson::array());
  if (!name.is_array() || name.empty()) return "";
  return name.back().contains("String") ? name.back()["String"].value("sval", "") : "";
}

void collect_filter_columns(const PlainJson& expr, FilterColumns& out) {
  if (!expr.is_object()) return;
  if (auto b = expr.find("BoolExpr"); b != expr.end()) {
    if (b->value("boolop", "") != "AND_EXPR") return;  // OR / NOT cannot use one btree index well
    for (const auto& arg : (*b)["args"]) collect_filter_columns(arg, out);
    return;
  }
  auto a = expr.find("A_Expr");
  if (a == expr.end()) return;
  std::string kind = a->value("kind", "");
  std::string op = operator_name(*a);
  PlainJson lhs = a->value("lexpr", PlainJson()), rhs = a->value("rexpr", PlainJson());
  std::string col = column_of(lhs);
  PlainJson other = rhs;
  if (col.empty() && kind == "AEXPR_OP") {  // $1 = col
    col = column_of(rhs);
    other = lhs;
  }
  if (col.empty() || mentions_column(other)) return;
  if ((kind == "AEXPR_OP" || kind == "AEXPR_OP_ANY" || kind == "AEXPR_IN") && op == "=")
    add_unique(out.equality, col);
  else if (kind == "AEXPR_OP" && (op == "<" || op == ">" || op == "<=" || op == ">="))
    add_unique(out.range, col);
  else if (kind == "AEXPR_BETWEEN")
    add_unique(out.range, col);
}

const PlainJson* single_statement(const ParsedSql& parsed) {
  if (!parsed.ok()) return nullptr;
  auto stmts = parsed.tree.find("stmts");
  if (stmts == parsed.tree.end() || !stmts->is_array() || stmts->size() != 1) return nullptr;
  auto stmt = (*stmts)[0].find("stmt");
  return stmt == (*stmts)[0].end() ? nullptr : &*stmt;
}

bool has_aggregate_or_window(const PlainJson& node) {
  if (node.is_object()) {
    if (auto f = node.find("FuncCall"); f != node.end()) {
      if (f->contains("over") || f->value("agg_star", false)) return true;
      const auto& names = f->value("funcname", PlainJson::array());
      std::string fn = names.empty() ? "" : names.back()["String"].value("sval", "");
      static const char* kAggregates[] = {"count",     "sum",       "avg",        "min",
                                          "max",       "array_agg", "string_agg", "json_agg",
                                          "jsonb_agg", "bool_and",  "bool_or"};
      for (const char* agg : kAggregates)
        if (fn == agg) return true;
    }
    for (const auto& [k, v] : node.items())
      if (has_aggregate_or_window(v)) return true;
  } else if (node.is_array()) {
    for (const auto& v : node)
      if (has_aggregate_or_window(v)) return true;
  }
  return false;
}

// PostgreSQL's reserved keywords (SQL Key Words appendix, "reserved" in the PostgreSQL column):
// an identifier spelled like one needs quotes.
bool is_reserved_keyword(std::string_view s) {
  static const char* kReserved[] = {"all",          "analyse",
                                    "analyze",      "and",
                                    "any",          "array",
                                    "as",           "asc",
                                    "asymmetric",   "both",
                                    "case",         "cast",
                                    "check",        "collate",
                                    "column",       "constraint",
                                    "create",       "current_catalog",
                                    "current_date", "current_role",
                                    "current_time", "current_timestamp",
                                    "current_user", "default",
                                    "deferrable",   "desc",
                                    "distinct",     "do",
                                    "else",         "end",
                                    "except",       "false",
                                    "fetch",        "for",
                                    "foreign",      "from",
                                    "grant",        "group",
                                    "having",       "in",
                                    "initially",    "intersect",
                                    "into",         "lateral",
                                    "leading",      "limit",
                                    "localtime",    "localtimestamp",
                                    "not",          "null",
                                    "offset",       "on",
                                    "only",         "or",
                                    "order",        "placing",
                                    "primary",      "references",
                                    "returning",    "select",
                                    "session_user", "some",
                                    "symmetric",    "table",
                                    "then",         "to",
                                    "trailing",     "true",
                                    "union",        "unique",
                                    "user",         "using",
                                    "variadic",     "when",
                                    "where",        "window",
                                    "with"};
  for (const char* k : kReserved)
    if (s == k) return true;
  return false;
}

bool is_simple_ident(std::string_view s) {
  if (is_reserved_keyword(s)) return false;
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}

}  // namespace

std::vector<SeqScan> seq_scans(const nlohmann::json& plan) {
  std::vector<SeqScan> out;
  collect_seq_scans(plan, 0, out);
  return out;
}

FilterColumns filter_columns(const std::string& filter) {
  FilterColumns out;
  if (filter.empty()) return out;
  ParsedSql parsed = parse_sql("SELECT 1 WHERE " + filter);
  const PlainJson* stmt = single_statement(parsed);
  if (!stmt || !stmt->contains("SelectStmt")) return out;
  collect_filter_columns((*stmt)["SelectStmt"].value("whereClause", PlainJson()), out);
  return out;
}

std::vector<std::vector<std::string>> index_candidates(const FilterColumns& f) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> combined(f.equality.begin(),
                                    f.equality.begin() + std::min<size_t>(f.equality.size(), 3));
  if (!f.range.empty()) combined.push_back(f.range.front());
  if (!combined.empty()) out.push_back(combined);
  if (combined.size() > 1)
    for (const auto& c : combined) out.push_back({c});
  return out;
}

bool covered_by_index(const std::vector<Index>& indexes, std::string_view schema, std::string_view table,
                      const std::vector<std::string>& columns) {
  if (columns.empty()) return false;
  for (const auto& ix : indexes) {
    if (ix.schema != schema || ix.table != table || ix.partial) continue;
    if (ix.method != "btree" && ix.method != "hash") continue;
    if (!ix.columns.empty() && ix.columns.front() == columns.front()) return true;
  }
  return false;
}

bool is_point_lookup(const std::string& query) {
  ParsedSql parsed = parse_sql(query);
  const PlainJson* stmt = single_statement(parsed);
  if (!stmt || !stmt->contains("SelectStmt")) return false;
  const PlainJson& sel = (*stmt)["SelectStmt"];
  if (sel.value("op", "") != "SETOP_NONE" || sel.contains("groupClause") || sel.contains("havingClause") ||
      sel.contains("withClause") || sel.contains("intoClause"))
    return false;
  const auto& from = sel.value("fromClause", PlainJson::array());
  if (from.size() != 1 || !from[0].contains("RangeVar")) return false;  // one plain table, no join
  if (has_aggregate_or_window(sel.value("targetList", PlainJson::array()))) return false;
  FilterColumns f;
  collect_filter_columns(sel.value("whereClause", PlainJson()), f);
  if (f.equality.empty() || !f.range.empty()) return false;
  // Every top-level conjunct must be such an equality: "WHERE id = $1 OR …" is not a lookup.
  const PlainJson& where = sel["whereClause"];
  if (where.contains("BoolExpr")) {
    const auto& b = where["BoolExpr"];
    if (b.value("boolop", "") != "AND_EXPR") return false;
    for (const auto& arg : b["args"]) {
      FilterColumns one;
      collect_filter_columns(arg, one);
      if (one.equality.empty()) return false;
    }
  }
  return true;
}

bool is_explainable(const std::string& query) {
  ParsedSql parsed = parse_sql(query);
  const PlainJson* stmt = single_statement(parsed);
  if (!stmt) return false;
  if (stmt->contains("SelectStmt")) return !(*stmt)["SelectStmt"].contains("intoClause");
  return stmt->contains("UpdateStmt") || stmt->contains("DeleteStmt");
}

std::string statement_relation(const std::string& query) {
  ParsedSql parsed = parse_sql(query);
  const PlainJson* stmt = single_statement(parsed);
  if (!stmt || !stmt->is_object() || stmt->empty()) return "";
  const PlainJson& body = stmt->begin().value();
  auto name_of = [](const PlainJson& range_var) {
    std::string schema = range_var.value("schemaname", "");
    return (schema.empty() ? "" : schema + ".") + range_var.value("relname", "");
  };
  if (auto rel = body.find("relation"); rel != body.end() && rel->is_object()) return name_of(*rel);
  if (auto from = body.find("fromClause"); from != body.end() && from->is_array())
    for (const auto& item : *from)
      if (item.contains("RangeVar")) return name_of(item["RangeVar"]);
  return "";
}

std::string quote_ident(std::string_view ident) {
  if (is_simple_ident(ident)) return std::string(ident);
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string create_index_sql(std::string_view schema, std::string_view table,
                             const std::vector<std::string>& columns, bool concurrently) {
  std::vector<std::string> quoted;
  for (const auto& c : columns) quoted.push_back(quote_ident(c));
  return fmt::format("CREATE INDEX {}ON {}.{} ({})", concurrently ? "CONCURRENTLY " : "", quote_ident(schema),
                     quote_ident(table), fmt::join(quoted, ", "));
}

}  // namespace cp::pg
