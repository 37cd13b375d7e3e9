#include "probes/postgres/statement_access.hpp"

#include <algorithm>
#include <set>

#include "util/sql.hpp"

namespace cp::pg {

namespace {

// libpg_query's parse trees: nlohmann::json, not the ordered cp::json of reports.
using PlainJson = nlohmann::json;

std::string last_name(const PlainJson& names) {
  if (!names.is_array() || names.empty() || !names.back().contains("String")) return "";
  return names.back()["String"].value("sval", "");
}

std::string relation_name(const PlainJson& range_var) {
  std::string schema = range_var.value("schemaname", "");
  return (schema.empty() ? "" : schema + ".") + range_var.value("relname", "");
}

// Every table a node mentions (FROM items, joins, subqueries), CTE names left out.
void collect_tables(const PlainJson& node, const std::set<std::string>& ctes, std::vector<std::string>& out) {
  if (node.is_object()) {
    if (auto rv = node.find("RangeVar"); rv != node.end()) {
      std::string name = relation_name(*rv);
      if (!ctes.count(name)) add_unique(out, name);
      return;
    }
    for (const auto& [k, v] : node.items()) collect_tables(v, ctes, out);
  } else if (node.is_array()) {
    for (const auto& v : node) collect_tables(v, ctes, out);
  }
}

std::set<std::string> cte_names(const PlainJson& body) {
  std::set<std::string> out;
  const PlainJson with = body.value("withClause", PlainJson::object());
  for (const auto& cte : with.value("ctes", PlainJson::array()))
    if (cte.contains("CommonTableExpr")) out.insert(cte["CommonTableExpr"].value("ctename", ""));
  return out;
}

bool modifies_in_cte(const PlainJson& body) {
  const PlainJson with = body.value("withClause", PlainJson::object());
  for (const auto& cte : with.value("ctes", PlainJson::array())) {
    const PlainJson q =
        cte.value("CommonTableExpr", PlainJson::object()).value("ctequery", PlainJson::object());
    if (q.contains("InsertStmt") || q.contains("UpdateStmt") || q.contains("DeleteStmt") ||
        q.contains("MergeStmt"))
      return true;
  }
  return false;
}

bool is_plain_column(const PlainJson& expr) {
  if (!expr.is_object()) return false;
  if (auto cast = expr.find("TypeCast"); cast != expr.end())
    return is_plain_column(cast->value("arg", PlainJson()));
  return expr.contains("ColumnRef");
}

std::string column_name(const PlainJson& expr) {
  if (auto cast = expr.find("TypeCast"); cast != expr.end())
    return column_name(cast->value("arg", PlainJson()));
  return last_name(expr["ColumnRef"].value("fields", PlainJson::array()));
}

// Columns compared by range with something that is not a column (a parameter, now() - $1 …).
void collect_range_columns(const PlainJson& expr, std::vector<std::string>& out) {
  if (!expr.is_object()) return;
  if (auto b = expr.find("BoolExpr"); b != expr.end()) {
    if (b->value("boolop", "") == "AND_EXPR")
      for (const auto& arg : (*b)["args"]) collect_range_columns(arg, out);
    return;
  }
  auto a = expr.find("A_Expr");
  if (a == expr.end()) return;
  std::string kind = a->value("kind", "");
  std::string op = last_name(a->value("name", PlainJson::array()));
  bool range = (kind == "AEXPR_OP" && (op == "<" || op == ">" || op == "<=" || op == ">=")) ||
               kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN";
  if (!range) return;
  PlainJson lhs = a->value("lexpr", PlainJson()), rhs = a->value("rexpr", PlainJson());
  if (is_plain_column(lhs) && !mentions_column(rhs)) add_unique(out, column_name(lhs));
  if (kind == "AEXPR_OP" && is_plain_column(rhs) && !mentions_column(lhs)) add_unique(out, column_name(rhs));
}

bool has_aggregate(const PlainJson& node) {
  if (node.is_object()) {
    if (auto f = node.find("FuncCall"); f != node.end()) {
      if (f->value("agg_star", false)) return true;
      static const std::set<std::string> kAggregates = {"count",     "sum",       "avg",        "min",
                                                        "max",       "array_agg", "string_agg", "json_agg",
                                                        "jsonb_agg", "bool_and",  "bool_or"};
      if (kAggregates.count(last_name(f->value("funcname", PlainJson::array())))) return true;
    }
    for (const auto& [k, v] : node.items())
      if (has_aggregate(v)) return true;
  } else if (node.is_array()) {
    for (const auto& v : node)
      if (has_aggregate(v)) return true;
  }
  return false;
}

// Session-level state a transaction-mode pooler would hand to another client.
std::string session_feature(const PlainJson& stmt) {
  static const std::set<std::string> kSessionLocks = {"pg_advisory_lock", "pg_advisory_lock_shared",
                                                      "pg_try_advisory_lock", "pg_try_advisory_lock_shared"};
  if (auto set = stmt.find("VariableSetStmt"); set != stmt.end())
    return set->value("is_local", false) ? "" : "SET";
  if (stmt.contains("PrepareStmt")) return "PREPARE";
  if (stmt.contains("ListenStmt")) return "LISTEN";
  if (auto c = stmt.find("CreateStmt"); c != stmt.end())
    return c->value("relation", PlainJson::object()).value("relpersistence", "") == "t" ? "temporary tables"
                                                                                        : "";
  if (auto d = stmt.find("DeclareCursorStmt"); d != stmt.end())
    return (d->value("options", 0) & 0x20) ? "WITH HOLD cursors" : "";  // CURSOR_OPT_HOLD
  std::string found;
  auto walk = [&](auto&& self, const PlainJson& node) -> void {
    if (!found.empty()) return;
    if (node.is_object()) {
      if (auto f = node.find("FuncCall");
          f != node.end() && kSessionLocks.count(last_name(f->value("funcname", PlainJson::array()))))
        found = "advisory locks";
      for (const auto& [k, v] : node.items()) self(self, v);
    } else if (node.is_array()) {
      for (const auto& v : node) self(self, v);
    }
  };
  walk(walk, stmt);
  return found;
}

void read_select(const PlainJson& sel, StatementAccess& out) {
  bool locking = sel.contains("lockingClause") || sel.contains("intoClause") || modifies_in_cte(sel);
  out.kind = locking ? StatementKind::write : StatementKind::read;
  out.verb = "select";
  collect_tables(sel.value("fromClause", PlainJson::array()), cte_names(sel), out.tables);
  out.aggregate = sel.contains("groupClause") || has_aggregate(sel.value("targetList", PlainJson::array()));
  collect_range_columns(sel.value("whereClause", PlainJson()), out.range_columns);
}

}  // namespace

StatementAccess statement_access(const std::string& query) {
  StatementAccess out;
  ParsedSql parsed = parse_sql(query);
  if (!parsed.ok()) return out;
  const PlainJson stmts = parsed.tree.value("stmts", PlainJson::array());
  if (stmts.size() != 1 || !stmts[0].contains("stmt")) return out;
  const PlainJson& stmt = stmts[0]["stmt"];
  out.session_feature = session_feature(stmt);
  if (auto sel = stmt.find("SelectStmt"); sel != stmt.end()) {
    read_select(*sel, out);
    return out;
  }
  static const std::pair<const char*, const char*> kWrites[] = {
      {"InsertStmt", "insert"}, {"UpdateStmt", "update"}, {"DeleteStmt", "delete"}, {"MergeStmt", "merge"}};
  for (const auto& [node, verb] : kWrites) {
    auto body = stmt.find(node);
    if (body == stmt.end()) continue;
    out.kind = StatementKind::write;
    out.verb = verb;
    if (auto rel = body->find("relation"); rel != body->end()) add_unique(out.tables, relation_name(*rel));
    collect_range_columns(body->value("whereClause", PlainJson()), out.range_columns);
    return out;
  }
  if (auto copy = stmt.find("CopyStmt"); copy != stmt.end() && copy->value("is_from", false)) {
    out.kind = StatementKind::write;
    if (auto rel = copy->find("relation"); rel != copy->end()) add_unique(out.tables, relation_name(*rel));
  }
  return out;
}

}  // namespace cp::pg
