#include "probes/postgres/index_advice.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "util/sql.hpp"

namespace cp::pg {

namespace {

// libpg_query's parse trees and EXPLAIN's plans: nlohmann::json, not the ordered cp::json of reports.
using PlainJson = nlohmann::json;

constexpr size_t kMaxEqualityColumns = 3;
constexpr size_t kMaxCandidates = 8;

struct QualifiedColumn {
  std::string qualifier;
  std::string column;
};

// "p.created_at" / "\"Orders\".\"Id\"" -> parts; nullopt for anything else (an expression).
std::optional<QualifiedColumn> parse_qualified(std::string_view s) {
  ParsedSql parsed = parse_sql("SELECT " + std::string(s));
  if (!parsed.ok()) return std::nullopt;
  const auto& stmts = parsed.tree["stmts"];
  if (!stmts.is_array() || stmts.size() != 1) return std::nullopt;
  const auto& targets = stmts[0]["stmt"]["SelectStmt"].value("targetList", PlainJson::array());
  if (targets.size() != 1) return std::nullopt;
  const auto& val = targets[0]["ResTarget"].value("val", PlainJson());
  if (!val.contains("ColumnRef")) return std::nullopt;
  const auto& fields = val["ColumnRef"]["fields"];
  if (!fields.is_array() || fields.size() != 2 || !fields[0].contains("String") ||
      !fields[1].contains("String"))
    return std::nullopt;
  return QualifiedColumn{fields[0]["String"].value("sval", ""), fields[1]["String"].value("sval", "")};
}

// A Sort Key entry: "p.created_at DESC". Keys an index cannot produce (expressions, non-default
// NULLS placement) end the usable prefix.
std::optional<std::pair<std::string, SortColumn>> parse_sort_key(std::string key) {
  bool desc = false;
  auto strip_suffix = [&](std::string_view suffix) {
    if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      key.resize(key.size() - suffix.size());
      return true;
    }
    return false;
  };
  if (strip_suffix(" NULLS FIRST")) {
    if (!strip_suffix(" DESC")) return std::nullopt;  // ASC NULLS FIRST: not a plain index's order
    desc = true;
  } else if (strip_suffix(" NULLS LAST")) {
    if (strip_suffix(" DESC")) return std::nullopt;
  } else if (strip_suffix(" DESC")) {
    desc = true;
  }
  auto col = parse_qualified(key);
  if (!col) return std::nullopt;
  return std::make_pair(col->qualifier, SortColumn{col->column, desc});
}

// Equi-join conditions (Hash Cond, Merge Cond, Join Filter): qualifier -> columns compared with a
// column of another relation.
void collect_join_columns(const PlainJson& expr, std::multimap<std::string, std::string>& out) {
  if (expr.is_array()) {
    for (const auto& e : expr) collect_join_columns(e, out);
    return;
  }
  if (!expr.is_object()) return;
  if (auto b = expr.find("BoolExpr"); b != expr.end()) {
    if (b->value("boolop", "") == "AND_EXPR") collect_join_columns((*b)["args"], out);
    return;
  }
  auto a = expr.find("A_Expr");
  if (a == expr.end() || a->value("kind", "") != "AEXPR_OP") return;
  const auto& name = a->value("name", PlainJson::array());
  if (name.empty() || name.back()["String"].value("sval", "") != "=") return;
  auto side = [](const PlainJson& e) -> std::optional<QualifiedColumn> {
    const PlainJson* x = &e;
    while (x->contains("TypeCast")) x = &(*x)["TypeCast"]["arg"];
    if (!x->contains("ColumnRef")) return std::nullopt;
    const auto& f = (*x)["ColumnRef"]["fields"];
    if (f.size() != 2 || !f[0].contains("String") || !f[1].contains("String")) return std::nullopt;
    return QualifiedColumn{f[0]["String"].value("sval", ""), f[1]["String"].value("sval", "")};
  };
  auto l = side(a->value("lexpr", PlainJson())), r = side(a->value("rexpr", PlainJson()));
  if (!l || !r || l->qualifier == r->qualifier) return;
  out.emplace(l->qualifier, l->column);
  out.emplace(r->qualifier, r->column);
}

void parse_join_condition(const std::string& cond, std::multimap<std::string, std::string>& out) {
  if (cond.empty()) return;
  ParsedSql parsed = parse_sql("SELECT 1 WHERE " + cond);
  if (!parsed.ok()) return;
  const auto& stmts = parsed.tree["stmts"];
  if (stmts.is_array() && stmts.size() == 1)
    collect_join_columns(stmts[0]["stmt"]["SelectStmt"].value("whereClause", PlainJson()), out);
}

using SortOrder = std::vector<std::pair<std::string, SortColumn>>;  // (qualifier, column)

struct PlanContext {
  std::vector<SortOrder> sorts;
  std::multimap<std::string, std::string> joins;
};

struct RawScan {
  std::string schema, table, alias, node_type, filter;
  bool residual = false;  // an index scan that still filters rows
  double plan_rows = 0;
  PlanContext context;
};

void walk(const PlainJson& node, int workers, PlanContext ctx, std::vector<RawScan>& out) {
  if (!node.is_object()) return;
  std::string type = node.value("Node Type", "");
  if (type == "Gather" || type == "Gather Merge") workers = node.value("Workers Planned", 0);
  if (auto keys = node.find("Sort Key"); keys != node.end() && keys->is_array()) {
    SortOrder order;
    for (const auto& k : *keys) {
      auto parsed = k.is_string() ? parse_sort_key(k.get<std::string>()) : std::nullopt;
      if (!parsed) break;
      order.push_back(*parsed);
    }
    if (!order.empty()) ctx.sorts.push_back(std::move(order));
  }
  for (const char* cond : {"Hash Cond", "Merge Cond", "Join Filter"})
    parse_join_condition(node.value(cond, ""), ctx.joins);
  bool seq = type == "Seq Scan" || type == "Parallel Seq Scan";
  bool indexed = type == "Index Scan" || type == "Index Only Scan" || type == "Bitmap Heap Scan";
  if (seq || indexed) {
    bool parallel = type == "Parallel Seq Scan" || node.value("Parallel Aware", false);
    RawScan s;
    s.schema = node.value("Schema", "public");
    s.table = node.value("Relation Name", "");
    s.alias = node.value("Alias", s.table);
    s.node_type = seq ? (parallel ? "Parallel Seq Scan" : "Seq Scan") : type;
    // An index scan's own condition plus what it still filters: the whole predicate on the table.
    std::vector<std::string> conds;
    for (const char* key : {"Index Cond", "Recheck Cond", "Filter"})
      if (auto c = node.value(key, ""); !c.empty() && std::find(conds.begin(), conds.end(), c) == conds.end())
        conds.push_back(c);
    s.filter = fmt::format("{}", fmt::join(conds, " AND "));
    s.residual = node.contains("Filter");
    s.plan_rows = node.value("Plan Rows", 0.0) * (parallel ? workers + 1 : 1);
    s.context = ctx;
    // A correlated subquery's scan compares its column with the outer query's ("e.account_id = a.id"):
    // a join column, served by an index the same way.
    parse_join_condition(node.value("Filter", ""), s.context.joins);
    out.push_back(std::move(s));
  }
  if (auto it = node.find("Plans"); it != node.end() && it->is_array())
    for (const auto& child : *it) walk(child, workers, ctx, out);
}

// A partition scan's alias is the statement's alias with "_N" appended (p -> p_1, p_2).
std::string alias_stem(const std::string& alias) {
  auto us = alias.rfind('_');
  if (us == std::string::npos || us + 1 == alias.size()) return alias;
  bool digits = std::all_of(alias.begin() + static_cast<long>(us) + 1, alias.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return digits ? alias.substr(0, us) : alias;
}

const Table* find_table(const std::vector<Table>& tables, std::string_view schema, std::string_view name) {
  for (const auto& t : tables)
    if (t.schema == schema && t.name == name) return &t;
  return nullptr;
}

std::pair<std::string, std::string> split_qualified(const std::string& q) {
  auto dot = q.find('.');
  if (dot == std::string::npos) return {"public", q};
  return {q.substr(0, dot), q.substr(dot + 1)};
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void add_candidate(std::vector<IndexKey>& out, IndexKey key) {
  if (key.columns.empty() || out.size() >= kMaxCandidates) return;
  if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
}

// Equality columns (constant in the result) then the sort columns. A key whose first sort column is
// DESC is flipped: a btree scanned backwards serves it, and the plain key is the one people write.
IndexKey equality_then_sort(const std::vector<std::string>& equality, const std::vector<SortColumn>& sort) {
  IndexKey key{equality, {}, equality.empty() ? "sort" : "filter+sort"};
  bool flip = false;
  bool first = true;
  for (const auto& s : sort) {
    if (contains(key.columns, s.column)) continue;
    if (first) flip = s.desc;
    first = false;
    key.columns.push_back(s.column);
    if (s.desc != flip) key.desc.push_back(s.column);
  }
  return key;
}

std::vector<IndexKey> candidates_for(const ScanTarget& t) {
  std::vector<IndexKey> out;
  const auto& f = t.filter_columns;
  std::vector<std::string> eq(
      f.equality.begin(),
      f.equality.begin() + static_cast<long>(std::min(f.equality.size(), kMaxEqualityColumns)));
  IndexKey filter_key{eq, {}, "filter"};
  if (!f.range.empty() && !contains(filter_key.columns, f.range.front()))
    filter_key.columns.push_back(f.range.front());
  add_candidate(out, filter_key);
  for (const auto& sort : t.sort_keys) {
    add_candidate(out, equality_then_sort(eq, sort));
    if (!eq.empty()) add_candidate(out, equality_then_sort({}, sort));
  }
  if (!t.join_columns.empty()) {
    IndexKey join{t.join_columns, {}, "join"};
    for (const auto& c : eq)
      if (!contains(join.columns, c)) join.columns.push_back(c);
    add_candidate(out, join);
    add_candidate(out, IndexKey{t.join_columns, {}, "join"});
  }
  if (filter_key.columns.size() > 1)
    for (const auto& c : filter_key.columns) add_candidate(out, IndexKey{{c}, {}, "filter"});
  return out;
}

}  // namespace

bool is_seq_scan(const std::string& node_type) {
  return node_type == "Seq Scan" || node_type == "Parallel Seq Scan";
}

std::vector<ScanTarget> scan_targets(const nlohmann::json& plan, const std::vector<Table>& tables,
                                     const std::vector<Index>& indexes) {
  std::vector<RawScan> raw;
  walk(plan, 0, {}, raw);
  std::vector<ScanTarget> out;
  for (const auto& s : raw) {
    std::string schema = s.schema, table = s.table, alias = s.alias;
    bool partition = false;
    if (const Table* t = find_table(tables, s.schema, s.table); t && !t->root.empty()) {
      std::tie(schema, table) = split_qualified(t->root);
      alias = alias_stem(s.alias);
      partition = true;
    }
    auto same = [&](const ScanTarget& t) {
      return t.schema == schema && t.table == table && t.alias == alias;
    };
    auto it = std::find_if(out.begin(), out.end(), same);
    if (it == out.end()) {
      ScanTarget t;
      t.schema = schema;
      t.table = table;
      t.alias = alias;
      t.node_type = s.node_type;
      t.filter = s.filter;
      t.residual = s.residual;
      t.filter_columns = filter_columns(s.filter);
      t.partitioned = partition;
      auto names_this = [&](const std::string& q) { return q == s.alias || q == alias; };
      for (const auto& [q, col] : s.context.joins)
        if (names_this(q) && !contains(t.join_columns, col)) t.join_columns.push_back(col);
      for (const auto& order : s.context.sorts) {
        std::vector<SortColumn> mine;
        for (const auto& [q, col] : order) {
          if (!names_this(q)) break;  // an index on this table orders only its own leading columns
          mine.push_back(col);
        }
        if (!mine.empty()) t.sort_keys.push_back(std::move(mine));
      }
      out.push_back(std::move(t));
      it = out.end() - 1;
    }
    it->leaves.push_back(s.schema + "." + s.table);
    it->plan_rows += s.plan_rows;
  }
  for (auto& t : out) {
    for (auto& key : candidates_for(t))
      if (!key_served_by_index(indexes, t.schema, t.table, key)) t.candidates.push_back(std::move(key));
  }
  // An index scan is a target only when something is left to gain: rows it filters, or a sort.
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const ScanTarget& t) {
                             return !is_seq_scan(t.node_type) && !t.residual && t.sort_keys.empty();
                           }),
            out.end());
  return out;
}

bool is_system_schema(std::string_view schema) {
  return schema == "pg_catalog" || schema == "information_schema" || schema.substr(0, 8) == "pg_toast";
}

double target_rows(const ScanTarget& t, const std::vector<Table>& tables) {
  double rows = 0;
  for (const auto& leaf : t.leaves) {
    auto [schema, name] = split_qualified(leaf);
    if (const Table* tab = find_table(tables, schema, name))
      rows += std::max(tab->reltuples, tab->n_live_tup);
  }
  return rows;
}

TableWrites target_writes(const ScanTarget& t, const std::vector<Table>& tables) {
  TableWrites w;
  std::string logical = t.schema + "." + t.table;
  for (const auto& tab : tables) {
    bool mine = (tab.schema == t.schema && tab.name == t.table) || tab.root == logical;
    if (!mine) continue;
    w.inserts += tab.n_tup_ins;
    w.updates += tab.n_tup_upd;
    w.deletes += tab.n_tup_del;
    w.hot_updates += tab.n_tup_hot_upd;
  }
  return w;
}

bool key_served_by_index(const std::vector<Index>& indexes, std::string_view schema, std::string_view table,
                         const IndexKey& key) {
  if (key.columns.empty()) return false;
  for (const auto& ix : indexes) {
    if (ix.schema != schema || ix.table != table || ix.partial || !ix.valid) continue;
    if (ix.method == "hash" && key.columns.size() == 1 && ix.columns == key.columns) return true;
    if (ix.method != "btree" || ix.columns.size() < key.columns.size()) continue;
    if (!std::equal(key.columns.begin(), key.columns.end(), ix.columns.begin())) continue;
    // The same directions, or all reversed (a backward scan).
    bool same = true, reversed = true;
    for (const auto& c : key.columns) {
      bool want = contains(key.desc, c), have = contains(ix.desc, c);
      same = same && want == have;
      reversed = reversed && want != have;
    }
    if (same || reversed) return true;
  }
  return false;
}

std::string index_key_sql(const IndexKey& key) {
  std::vector<std::string> parts;
  for (const auto& c : key.columns) parts.push_back(quote_ident(c) + (contains(key.desc, c) ? " DESC" : ""));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string index_name(std::string_view table, const IndexKey& key) {
  std::string name(table);
  for (const auto& c : key.columns) name += "_" + c;
  if (name.size() > 59) name.resize(59);
  return name + "_idx";
}

std::vector<std::string> create_index_statements(const std::vector<Table>& tables, std::string_view schema,
                                                 std::string_view table, const IndexKey& key) {
  auto qualified = [](std::string_view s, std::string_view n) {
    return quote_ident(s) + "." + quote_ident(n);
  };
  const Table* root = find_table(tables, schema, table);
  if (!root || !root->partitioned)
    return {
        fmt::format("CREATE INDEX CONCURRENTLY ON {} ({})", qualified(schema, table), index_key_sql(key))};

  // Parents first (ON ONLY: the index exists but is invalid until every partition has one), then each
  // partition concurrently and attached to its parent's index; a sub-partitioned parent's index is
  // attached once its own partitions are.
  std::string full = std::string(schema) + "." + std::string(table);
  std::vector<const Table*> parents{root}, leaves;
  for (const auto& t : tables) {
    if (t.root != full) continue;
    (t.partitioned ? parents : leaves).push_back(&t);
  }
  auto index_of = [&](const Table& t) { return qualified(t.schema, index_name(t.name, key)); };
  auto parent_index = [&](const Table& t) {
    auto [ps, pn] = split_qualified(t.parent);
    return qualified(ps, index_name(pn, key));
  };
  std::vector<std::string> out;
  for (const auto* p : parents)
    out.push_back(fmt::format("CREATE INDEX IF NOT EXISTS {} ON ONLY {} ({})",
                              quote_ident(index_name(p->name, key)), qualified(p->schema, p->name),
                              index_key_sql(key)));
  for (const auto* l : leaves) {
    out.push_back(fmt::format("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})",
                              quote_ident(index_name(l->name, key)), qualified(l->schema, l->name),
                              index_key_sql(key)));
    out.push_back(fmt::format("ALTER INDEX {} ATTACH PARTITION {}", parent_index(*l), index_of(*l)));
  }
  for (auto p = parents.rbegin(); p != parents.rend(); ++p)
    if (!(*p)->parent.empty())
      out.push_back(fmt::format("ALTER INDEX {} ATTACH PARTITION {}", parent_index(**p), index_of(**p)));
  return out;
}

}  // namespace cp::pg
