// db.missing_index: a hot statement's scan that an index (tried with HypoPG when installed) would
// make at least half as costly. Declared in rules.cpp's table.
#include "probes/postgres/rules.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "probes/postgres/index_advice.hpp"
#include "probes/postgres/index_rules.hpp"
#include "probes/postgres/levers.hpp"
#include "probes/postgres/session_rules.hpp"
#include "probes/postgres/sql_shape.hpp"
#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::pg {

namespace {

Severity share_severity(double share, const RuleParams& p) {
  if (share >= p["critical_db_time_share"]) return Severity::critical;
  if (share >= p["high_db_time_share"]) return Severity::high;
  return Severity::medium;
}

// The hypothetical indexes of `plan` on the target that the planner used, restricted to the target's
// candidates: the cheapest wins, and among those within `near_tie` of it, the narrowest (fewer
// columns cost less to maintain), then the cheapest.
const WhatIf* best_what_if(const Plan& plan, const ScanTarget& t, double near_tie) {
  std::vector<const WhatIf*> usable;
  for (const auto& w : plan.what_if) {
    if (w.schema != t.schema || w.table != t.table || !w.used || !w.cost_after) continue;
    IndexKey key{w.columns, w.desc, ""};
    if (std::find(t.candidates.begin(), t.candidates.end(), key) != t.candidates.end()) usable.push_back(&w);
  }
  if (usable.empty()) return nullptr;
  double cheapest = *(*std::min_element(usable.begin(), usable.end(), [](auto* a, auto* b) {
                       return *a->cost_after < *b->cost_after;
                     }))->cost_after;
  const WhatIf* best = nullptr;
  for (const auto* w : usable) {
    if (*w->cost_after > cheapest * (1 + near_tie)) continue;
    if (!best || w->columns.size() < best->columns.size() ||
        (w->columns.size() == best->columns.size() && *w->cost_after < *best->cost_after))
      best = w;
  }
  return best;
}

// One statement an index suggestion would serve, with its own costs.
struct ServedStatement {
  const Statement* statement = nullptr;
  double share = 0;
  std::optional<double> cost_before, cost_after;
};

struct IndexSuggestion {
  std::string schema, table;
  IndexKey key;
  double rows = 0, estimated_rows = 0;
  std::string node_type, filter;
  bool partitioned = false;
  size_t partitions = 0;
  TableWrites writes;
  std::vector<ServedStatement> statements;
  double share = 0;
};

std::string statement_kind(const std::string& query) {
  auto parsed = parse_sql(query);
  if (!parsed.ok() || parsed.tree["stmts"].empty()) return "other";
  const auto& stmt = parsed.tree["stmts"][0]["stmt"];
  if (stmt.contains("UpdateStmt")) return "update";
  if (stmt.contains("DeleteStmt")) return "delete";
  if (stmt.contains("SelectStmt")) return "select";
  return "other";
}

json statement_evidence(const ServedStatement& s) {
  const Statement& st = *s.statement;
  auto cost = [](const std::optional<double>& c) { return c ? json(round_to(*c, 2)) : json(nullptr); };
  return {{"queryid", st.queryid},
          {"query", one_line(st.query, 2048)},
          {"kind", statement_kind(st.query)},
          {"calls", st.calls},
          {"total_ms", round_to(st.total_exec_ms, 3)},
          {"mean_ms", round_to(st.calls ? st.total_exec_ms / st.calls : 0, 3)},
          {"db_time_share", round_to(s.share, 4)},
          {"cost_before", cost(s.cost_before)},
          {"cost_after", cost(s.cost_after)}};
}

// What the index costs: every insert, delete and non-HOT update of the table also writes it.
std::string write_cost_sentence(const IndexSuggestion& s, double writes_per_s, double read_calls_per_s,
                                bool serves_writes) {
  std::string out;
  if (s.writes.total() > 0)
    out = fmt::format(
        " Write cost: the table takes {} row writes/s ({} inserts, {} updates of which {} HOT, {} deletes); "
        "each insert, delete and non-HOT update also writes this index{}.",
        round_to(writes_per_s, 1), human_count(s.writes.inserts), human_count(s.writes.updates),
        human_count(s.writes.hot_updates), human_count(s.writes.deletes),
        read_calls_per_s > 0 && writes_per_s > read_calls_per_s
            ? fmt::format(" — more writes than the {} calls/s it speeds up: weigh the two",
                          round_to(read_calls_per_s, 1))
            : "");
  if (serves_writes)
    out +=
        " The statement is itself a write: the index finds its rows, and any update of an indexed column "
        "can no longer be HOT.";
  return out;
}

// The statements a suggestion serves, summed, and their evidence.
struct ServedTotals {
  double calls = 0, total_ms = 0, gain_ms = 0;
  bool serves_writes = false;
  json queryids = json::array(), statements = json::array();
};

ServedTotals served_totals(const IndexSuggestion& s) {
  ServedTotals t;
  for (const auto& served : s.statements) {
    t.calls += served.statement->calls;
    t.total_ms += served.statement->total_exec_ms;
    if (served.cost_before && served.cost_after && *served.cost_before > 0)
      t.gain_ms += served.statement->total_exec_ms * (1 - *served.cost_after / *served.cost_before);
    t.queryids.push_back(served.statement->queryid);
    t.statements.push_back(statement_evidence(served));
    std::string kind = statement_kind(served.statement->query);
    t.serves_writes = t.serves_writes || kind == "update" || kind == "delete";
  }
  return t;
}

bool measured_with_hypopg(const ServedStatement& top) {
  return top.cost_after && top.cost_before;
}

// Table counters count over the window, or since pg_stat_database's reset (not pg_stat_statements').
double table_writes_base_s(const Workload& w) {
  return w.snap->window_s > 0 ? w.snap->window_s : w.snap->table_stats_age_s.value_or(0);
}

double table_writes_per_s(const IndexSuggestion& s, const Workload& w) {
  double base_s = table_writes_base_s(w);
  return base_s > 0 ? s.writes.total() / base_s : 0;
}

std::string suggestion_title(const IndexSuggestion& s) {
  std::string cols = index_key_sql(s.key);
  bool by_sort = s.key.source.find("sort") != std::string::npos;
  return is_seq_scan(s.node_type)
             ? fmt::format("Add an index on {} ({}): a hot query {} all {} rows of it per call", s.table,
                           cols, by_sort ? "reads and sorts" : "reads", human_count(s.rows))
             : fmt::format("Add an index on {} ({}): a hot query's {} on it still {} rows", s.table, cols,
                           s.node_type, by_sort ? "sorts" : "filters");
}

std::string cost_sentence(const ServedStatement& top) {
  if (measured_with_hypopg(top))
    return fmt::format(
        " With a hypothetical index (HypoPG) the estimated cost falls from {:.1f} to {:.1f} (-{}).",
        *top.cost_before, *top.cost_after, percent(1 - *top.cost_after / *top.cost_before));
  return " HypoPG is not installed, so the saving is estimated from the plan's selectivity only.";
}

std::string suggestion_detail(const IndexSuggestion& s, const Workload& w, const ServedTotals& t) {
  const ServedStatement& top = s.statements.front();
  std::string others =
      s.statements.size() > 1
          ? fmt::format(" {} statements in all would use it (see evidence.statements).", s.statements.size())
          : "";
  return fmt::format(
      "{} ran {} times (mean {}, {} of database time). Its generic plan reads {}.{}{} {} ({}, {} "
      "rows, {}) to return about {} rows.{}{}{}",
      one_line(top.statement->query, 160), human_count(top.statement->calls),
      human_ms(top.statement->calls ? top.statement->total_exec_ms / top.statement->calls : 0),
      percent(top.share), s.schema, s.table,
      s.partitioned ? fmt::format(" ({} partitions)", s.partitions) : "",
      is_seq_scan(s.node_type) ? "sequentially" : "through an index that does not serve all of it",
      s.node_type, human_count(s.rows), s.filter.empty() ? std::string("no filter") : "filter " + s.filter,
      human_count(s.estimated_rows), cost_sentence(top), others,
      write_cost_sentence(s, table_writes_per_s(s, w), w.per_s(t.calls), t.serves_writes));
}

json suggestion_evidence(const IndexSuggestion& s, const Workload& w, const ServedTotals& t) {
  const ServedStatement& top = s.statements.front();
  bool measured = measured_with_hypopg(top);
  double writes_per_s = table_writes_per_s(s, w);
  return {
      {"table", s.table},
      {"schema", s.schema},
      {"columns", s.key.columns},
      {"desc_columns", s.key.desc},
      {"index_source", s.key.source},
      {"query", one_line(top.statement->query, 2048)},
      {"queryid", top.statement->queryid},
      {"queryids", t.queryids},
      {"statements", t.statements},
      {"calls", t.calls},
      {"mean_ms", round_to(t.calls ? t.total_ms / t.calls : 0, 3)},
      {"total_ms", round_to(t.total_ms, 3)},
      {"db_time_share", round_to(s.share, 4)},
      {"table_rows", s.rows},
      {"estimated_rows", round_to(s.estimated_rows, 1)},
      {"selectivity", s.rows > 0 ? round_to(s.estimated_rows / s.rows, 6) : 1.0},
      {"cost_before", top.cost_before ? json(round_to(*top.cost_before, 2)) : json(nullptr)},
      {"cost_after", top.cost_after ? json(round_to(*top.cost_after, 2)) : json(nullptr)},
      {"cost_source", measured ? "hypopg" : "plan_estimate"},
      {"plan_node", s.node_type},
      {"partitioned", s.partitioned},
      {"partitions", s.partitions},
      {"read_gain_ms_per_s",
       w.time_base_s > 0 && measured ? json(round_to(w.per_s(t.gain_ms), 3)) : json(nullptr)},
      {"table_writes", s.writes.total()},
      {"table_writes_per_s", table_writes_base_s(w) > 0 ? json(round_to(writes_per_s, 3)) : json(nullptr)},
      {"table_hot_update_ratio",
       s.writes.updates > 0 ? json(round_to(s.writes.hot_updates / s.writes.updates, 4)) : json(nullptr)},
      {"write_heavy", w.per_s(t.calls) > 0 && writes_per_s > w.per_s(t.calls)}};
}

// The DDL, and how to run it without blocking writes (a partitioned table needs it per partition).
Remediation suggestion_remediation(const IndexSuggestion& s, const Workload& w) {
  Remediation r;
  if (s.partitioned) {
    r.summary = fmt::format(
        "{}.{} is partitioned and PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table: "
        "create "
        "the parent's index ON ONLY (instant, invalid until complete), build each partition's index "
        "CONCURRENTLY (no write lock) and ATTACH it; the parent's index becomes valid once every partition's "
        "is attached. (The one-statement alternative, CREATE INDEX ON {}.{} ({}), holds a SHARE lock on "
        "every partition — INSERT, UPDATE and DELETE wait — until all are built.)",
        s.schema, s.table, quote_ident(s.schema), quote_ident(s.table), index_key_sql(s.key));
  } else {
    r.summary =
        "Create the index without blocking writes (CONCURRENTLY), then re-run chokepoint to see the plan use "
        "it.";
  }
  std::string sql;
  for (const auto& stmt : create_index_statements(w.snap->tables, s.schema, s.table, s.key))
    sql += (sql.empty() ? "" : "\n") + stmt + ";";
  r.sql = sql;
  return r;
}

void describe_suggestion(const IndexSuggestion& s, const Workload& w, Finding& f) {
  ServedTotals totals = served_totals(s);
  f.title = suggestion_title(s);
  f.detail = suggestion_detail(s, w, totals);
  f.impact = {round_to(s.share, 4), "db_time"};
  f.evidence = suggestion_evidence(s, w, totals);
  f.remediation = suggestion_remediation(s, w);
}

// Where the index comes from without HypoPG: the filter's key, and only for a selective filter.
std::optional<IndexKey> key_from_selectivity(const ScanTarget& t, double rows, const RuleParams& p) {
  if (t.candidates.empty() || t.candidates.front().source != "filter") return std::nullopt;
  if (t.plan_rows / rows > p["max_selectivity"]) return std::nullopt;
  return t.candidates.front();
}

// The index to suggest for one scan, and its cost with it (HypoPG), or none.
struct KeyChoice {
  IndexKey key;
  std::optional<double> cost_after;
};

std::optional<KeyChoice> choose_key(const Plan& plan, const ScanTarget& target, double rows,
                                    const Workload& w, const RuleParams& p) {
  if (!w.snap->hypopg) {
    auto key = key_from_selectivity(target, rows, p);
    if (!key) return std::nullopt;
    return KeyChoice{*key, std::nullopt};
  }
  // With HypoPG the planner has the last word: it must use the hypothetical index, and the
  // plan's cost must fall by at least min_cost_savings_ratio.
  const WhatIf* best = best_what_if(plan, target, p["near_tie_ratio"]);
  if (!best || !plan.total_cost || *plan.total_cost <= 0) return std::nullopt;
  double saving = 1 - *best->cost_after / *plan.total_cost;
  if (saving < p["min_cost_savings_ratio"] - 1e-9) return std::nullopt;
  auto it =
      std::find(target.candidates.begin(), target.candidates.end(), IndexKey{best->columns, best->desc, ""});
  return KeyChoice{*it, best->cost_after};
}

// The suggestion for `key` on the target, created on first use (keyed by schema.table(key)).
IndexSuggestion& suggestion_for(std::map<std::string, IndexSuggestion>& suggestions, const ScanTarget& target,
                                const IndexKey& key, double rows, const Workload& w) {
  std::string id = fmt::format("{}.{}({})", target.schema, target.table, index_key_sql(key));
  IndexSuggestion& s = suggestions[id];
  if (s.statements.empty()) {
    s.schema = target.schema;
    s.table = target.table;
    s.key = key;
    s.rows = rows;
    s.estimated_rows = target.plan_rows;
    s.node_type = target.node_type;
    s.filter = target.filter;
    s.partitioned = target.partitioned;
    s.partitions = target.leaves.size();
    s.writes = target_writes(target, w.snap->tables);
  }
  return s;
}

void add_served(IndexSuggestion& s, const ServedStatement& served) {
  auto same = [&](const ServedStatement& x) { return x.statement == served.statement; };
  if (std::none_of(s.statements.begin(), s.statements.end(), same)) {
    s.statements.push_back(served);
    s.share += served.share;
  }
}

// Every scan of a hot statement's plan that an index would serve, grouped by the index.
std::map<std::string, IndexSuggestion> index_suggestions(const Workload& w, const RuleParams& p) {
  std::map<std::string, IndexSuggestion> suggestions;  // keyed by schema.table(key)
  for (const auto& plan : w.snap->plans) {
    const Statement* st = w.statement(plan.queryid);
    if (!st || w.db_time_ms <= 0) continue;
    double share = st->total_exec_ms / w.db_time_ms;
    if (share < p["min_db_time_share"]) continue;
    for (const auto& target : scan_targets(plan.plan, w.snap->tables, w.snap->indexes)) {
      if (is_system_schema(target.schema) || target.candidates.empty()) continue;
      double rows = target_rows(target, w.snap->tables);
      if (rows < p["min_table_rows"]) continue;
      auto choice = choose_key(plan, target, rows, w, p);
      if (!choice || key_served_by_index(w.snap->indexes, target.schema, target.table, choice->key)) continue;
      add_served(suggestion_for(suggestions, target, choice->key, rows, w),
                 {st, share, plan.total_cost, choice->cost_after});
    }
  }
  return suggestions;
}

}  // namespace

std::vector<Finding> missing_index(const Workload& w, const RuleParams& p) {
  std::vector<Finding> out;
  for (auto& [id, s] : index_suggestions(w, p)) {
    std::stable_sort(s.statements.begin(), s.statements.end(),
                     [](const auto& a, const auto& b) { return a.share > b.share; });
    // The subject keeps the historical form "db/schema.table(col,col)" for plain ascending keys.
    std::string subject =
        fmt::format("{}/{}.{}({})", w.snap->database, s.schema, s.table, fmt::join(s.key.columns, ","));
    if (!s.key.desc.empty()) subject += " desc(" + fmt::format("{}", fmt::join(s.key.desc, ",")) + ")";
    Finding f = p.make_finding(subject);
    f.component = w.component;
    f.severity = share_severity(s.share, p);
    describe_suggestion(s, w, f);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace cp::pg
