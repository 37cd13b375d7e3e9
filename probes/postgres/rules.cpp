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

// The identity of a statement across servers: libpg_query's fingerprint of its text (queryid
// depends on OIDs and differs between machines).
std::string statement_subject(const Statement& st) {
  auto fp = sql_fingerprint(st.query);
  return fp ? fmt::format("{:016x}", *fp) : one_line(st.query, 4096);
}

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

void describe_suggestion(const IndexSuggestion& s, const Workload& w, Finding& f) {
  const ServedStatement& top = s.statements.front();
  double calls = 0, total_ms = 0, gain_ms = 0;
  bool serves_writes = false;
  json queryids = json::array(), statements = json::array();
  for (const auto& served : s.statements) {
    calls += served.statement->calls;
    total_ms += served.statement->total_exec_ms;
    if (served.cost_before && served.cost_after && *served.cost_before > 0)
      gain_ms += served.statement->total_exec_ms * (1 - *served.cost_after / *served.cost_before);
    queryids.push_back(served.statement->queryid);
    statements.push_back(statement_evidence(served));
    std::string kind = statement_kind(served.statement->query);
    serves_writes = serves_writes || kind == "update" || kind == "delete";
  }
  bool measured = top.cost_after && top.cost_before;
  std::string cols = index_key_sql(s.key);
  bool by_sort = s.key.source.find("sort") != std::string::npos;
  bool seq = is_seq_scan(s.node_type);
  f.title = seq ? fmt::format("Add an index on {} ({}): a hot query {} all {} rows of it per call", s.table,
                              cols, by_sort ? "reads and sorts" : "reads", human_count(s.rows))
                : fmt::format("Add an index on {} ({}): a hot query's {} on it still {} rows", s.table, cols,
                              s.node_type, by_sort ? "sorts" : "filters");
  std::string cost;
  if (measured)
    cost = fmt::format(
        " With a hypothetical index (HypoPG) the estimated cost falls from {:.1f} to {:.1f} (-{}).",
        *top.cost_before, *top.cost_after, percent(1 - *top.cost_after / *top.cost_before));
  else
    cost = " HypoPG is not installed, so the saving is estimated from the plan's selectivity only.";
  std::string others =
      s.statements.size() > 1
          ? fmt::format(" {} statements in all would use it (see evidence.statements).", s.statements.size())
          : "";
  // Table counters count over the window, or since pg_stat_database's reset (not pg_stat_statements').
  double writes_base_s = w.snap->window_s > 0 ? w.snap->window_s : w.snap->table_stats_age_s.value_or(0);
  double writes_per_s = writes_base_s > 0 ? s.writes.total() / writes_base_s : 0;
  f.detail = fmt::format(
      "{} ran {} times (mean {}, {} of database time). Its generic plan reads {}.{}{} {} ({}, {} "
      "rows, {}) to return about {} rows.{}{}{}",
      one_line(top.statement->query, 160), human_count(top.statement->calls),
      human_ms(top.statement->calls ? top.statement->total_exec_ms / top.statement->calls : 0),
      percent(top.share), s.schema, s.table,
      s.partitioned ? fmt::format(" ({} partitions)", s.partitions) : "",
      seq ? "sequentially" : "through an index that does not serve all of it", s.node_type,
      human_count(s.rows), s.filter.empty() ? std::string("no filter") : "filter " + s.filter,
      human_count(s.estimated_rows), cost, others,
      write_cost_sentence(s, writes_per_s, w.per_s(calls), serves_writes));
  f.impact = {round_to(s.share, 4), "db_time"};
  f.evidence = {
      {"table", s.table},
      {"schema", s.schema},
      {"columns", s.key.columns},
      {"desc_columns", s.key.desc},
      {"index_source", s.key.source},
      {"query", one_line(top.statement->query, 2048)},
      {"queryid", top.statement->queryid},
      {"queryids", queryids},
      {"statements", statements},
      {"calls", calls},
      {"mean_ms", round_to(calls ? total_ms / calls : 0, 3)},
      {"total_ms", round_to(total_ms, 3)},
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
       w.time_base_s > 0 && measured ? json(round_to(w.per_s(gain_ms), 3)) : json(nullptr)},
      {"table_writes", s.writes.total()},
      {"table_writes_per_s", writes_base_s > 0 ? json(round_to(writes_per_s, 3)) : json(nullptr)},
      {"table_hot_update_ratio",
       s.writes.updates > 0 ? json(round_to(s.writes.hot_updates / s.writes.updates, 4)) : json(nullptr)},
      {"write_heavy", w.per_s(calls) > 0 && writes_per_s > w.per_s(calls)}};
  auto ddl = create_index_statements(w.snap->tables, s.schema, s.table, s.key);
  if (s.partitioned) {
    f.remediation.summary = fmt::format(
        "{}.{} is partitioned and PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table: "
        "create "
        "the parent's index ON ONLY (instant, invalid until complete), build each partition's index "
        "CONCURRENTLY (no write lock) and ATTACH it; the parent's index becomes valid once every partition's "
        "is attached. (The one-statement alternative, CREATE INDEX ON {}.{} ({}), holds a SHARE lock on "
        "every partition — INSERT, UPDATE and DELETE wait — until all are built.)",
        s.schema, s.table, quote_ident(s.schema), quote_ident(s.table), cols);
  } else {
    f.remediation.summary =
        "Create the index without blocking writes (CONCURRENTLY), then re-run chokepoint to see the plan use "
        "it.";
  }
  std::string sql;
  for (const auto& stmt : ddl) sql += (sql.empty() ? "" : "\n") + stmt + ";";
  f.remediation.sql = sql;
}

// Where the index comes from without HypoPG: the filter's key, and only for a selective filter.
std::optional<IndexKey> key_from_selectivity(const ScanTarget& t, double rows, const RuleParams& p) {
  if (t.candidates.empty() || t.candidates.front().source != "filter") return std::nullopt;
  if (t.plan_rows / rows > p["max_selectivity"]) return std::nullopt;
  return t.candidates.front();
}

}  // namespace

const Statement* Workload::statement(int64_t queryid) const {
  for (const auto& st : snap->statements)
    if (st.queryid == queryid) return &st;
  return nullptr;
}

double Workload::counter_delta(const std::string& column) const {
  auto end = snap->database_end.find(column);
  if (end == snap->database_end.end()) return 0;
  auto start = snap->database_start.find(column);
  return start == snap->database_start.end() ? end->second : end->second - start->second;
}

Workload derive_workload(const Snapshot& snap) {
  Workload w;
  w.snap = &snap;
  w.component = "postgres:" + snap.database;
  for (const auto& st : snap.statements) {
    w.db_time_ms += st.total_exec_ms;
    w.calls += st.calls;
  }
  w.time_base_s = snap.window_s > 0 ? snap.window_s : snap.stats_age_s.value_or(0);
  w.xacts = w.counter_delta("xact_commit") + w.counter_delta("xact_rollback");
  return w;
}

std::vector<Finding> missing_index(const Workload& w, const RuleParams& p) {
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
      std::optional<IndexKey> key;
      std::optional<double> cost_after;
      if (w.snap->hypopg) {
        // With HypoPG the planner has the last word: it must use the hypothetical index, and the
        // plan's cost must fall by at least min_cost_savings_ratio.
        const WhatIf* best = best_what_if(plan, target, p["near_tie_ratio"]);
        if (!best || !plan.total_cost || *plan.total_cost <= 0) continue;
        double saving = 1 - *best->cost_after / *plan.total_cost;
        if (saving < p["min_cost_savings_ratio"] - 1e-9) continue;
        auto it = std::find(target.candidates.begin(), target.candidates.end(),
                            IndexKey{best->columns, best->desc, ""});
        key = *it;
        cost_after = best->cost_after;
      } else {
        key = key_from_selectivity(target, rows, p);
      }
      if (!key || key_served_by_index(w.snap->indexes, target.schema, target.table, *key)) continue;

      std::string id = fmt::format("{}.{}({})", target.schema, target.table, index_key_sql(*key));
      IndexSuggestion& s = suggestions[id];
      if (s.statements.empty()) {
        s.schema = target.schema;
        s.table = target.table;
        s.key = *key;
        s.rows = rows;
        s.estimated_rows = target.plan_rows;
        s.node_type = target.node_type;
        s.filter = target.filter;
        s.partitioned = target.partitioned;
        s.partitions = target.leaves.size();
        s.writes = target_writes(target, w.snap->tables);
      }
      auto same = [&](const ServedStatement& x) { return x.statement == st; };
      if (std::none_of(s.statements.begin(), s.statements.end(), same)) {
        s.statements.push_back({st, share, plan.total_cost, cost_after});
        s.share += share;
      }
    }
  }
  std::vector<Finding> out;
  for (auto& [id, s] : suggestions) {
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

std::vector<Finding> slow_query(const Workload& w, const RuleParams& p, const std::set<int64_t>& covered) {
  std::vector<Finding> out;
  if (w.db_time_ms <= 0) return out;
  double busy_ms_per_s = w.per_s(w.db_time_ms);
  for (const auto& st : w.snap->statements) {
    if (covered.count(st.queryid)) continue;
    double share = st.total_exec_ms / w.db_time_ms;
    double mean = st.total_exec_ms / st.calls;
    bool slow = mean >= p["min_mean_ms"] && st.calls >= p["min_calls"];
    bool dominant = share >= p["dominant_db_time_share"] &&
                    (w.time_base_s <= 0 || busy_ms_per_s >= p["min_db_time_ms_per_s"]);
    if (!slow && !dominant) continue;
    Finding f = p.make_finding(w.snap->database + "/" + statement_subject(st));
    f.component = w.component;
    // Fast but dominant is worth knowing (where to optimize first), not a bottleneck by itself.
    f.severity = slow && dominant ? Severity::high : slow ? Severity::medium : Severity::info;
    std::string q = one_line(st.query, 100);
    f.title = slow ? fmt::format("Slow query: {} takes {} per call ({} of database time)", q, human_ms(mean),
                                 percent(share))
                   : fmt::format("One query is {} of database time: {}", percent(share), q);
    f.detail = fmt::format(
        "{} calls, mean {}, {} rows per call, {} in total; the database spent {} ms/s executing statements.",
        human_count(st.calls), human_ms(mean), human_count(st.rows / st.calls), human_ms(st.total_exec_ms),
        round_to(busy_ms_per_s, 1));
    f.impact = {round_to(share, 4), "db_time"};
    f.evidence = {{"query", one_line(st.query, 2048)},
                  {"queryid", st.queryid},
                  {"calls", st.calls},
                  {"mean_ms", round_to(mean, 3)},
                  {"total_ms", round_to(st.total_exec_ms, 3)},
                  {"db_time_share", round_to(share, 4)},
                  {"rows_per_call", round_to(st.rows / st.calls, 2)},
                  {"calls_per_s", round_to(w.per_s(st.calls), 2)}};
    f.remediation.summary =
        slow ? "Run EXPLAIN (ANALYZE, BUFFERS) on this query against a copy of the data and "
               "fix the plan (an index, fewer rows, a rewrite), or cache its result."
             : "Make this query cheaper or call it less (cache, batch) before adding capacity.";
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> n_plus_one(const Workload& w, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& child : w.snap->statements) {
    if (child.calls < p["min_calls"]) continue;
    double rows_per_call = child.rows / child.calls;
    if (rows_per_call > p["max_rows_per_call"] || !is_point_lookup(child.query)) continue;

    // The parent: fewer calls, whose rows add up to the child's calls (list, then fetch each).
    const Statement* parent = nullptr;
    double best_diff = p["parent_match_tolerance"];
    for (const auto& cand : w.snap->statements) {
      if (&cand == &child || cand.calls <= 0) continue;
      if (child.calls / cand.calls < p["min_calls_per_parent"]) continue;
      double diff = std::fabs(cand.rows - child.calls) / child.calls;
      if (diff <= best_diff) {
        best_diff = diff;
        parent = &cand;
      }
    }
    double per_xact = w.xacts > 0 ? child.calls / w.xacts : 0;
    double per_parent = parent ? child.calls / parent->calls : 0;
    if (!parent && per_xact < p["min_calls_per_parent"]) continue;

    double repeats = std::max(per_parent, per_xact);
    Finding f = p.make_finding(w.snap->database + "/" + statement_subject(child));
    f.component = w.component;
    f.severity = repeats >= 2 * p["min_calls_per_parent"] ? Severity::high : Severity::medium;
    std::string q = one_line(child.query, 100);
    f.title = fmt::format("N+1 queries: {} runs {:.0f} times per {} — fetch the rows in one query", q,
                          repeats, parent ? "parent query" : "transaction");
    f.detail = parent ? fmt::format(
                            "{} returns {:.1f} rows per call and then {} runs once per row ({} calls vs "
                            "{} parent calls, {:.1f} per transaction). Each call is a round trip.",
                            one_line(parent->query, 120), parent->rows / parent->calls, q,
                            human_count(child.calls), human_count(parent->calls), per_xact)
                      : fmt::format("{} single-row lookups, {:.1f} per transaction: one round trip per row.",
                                    human_count(child.calls), per_xact);
    f.impact = {w.calls > 0 ? round_to(child.calls / w.calls, 4) : std::optional<double>(), "calls"};
    f.evidence = {
        {"query", one_line(child.query, 2048)},
        {"queryid", child.queryid},
        {"calls", child.calls},
        {"rows_per_call", round_to(rows_per_call, 3)},
        {"calls_per_xact", round_to(per_xact, 2)},
        {"parent_query", parent ? json(one_line(parent->query, 2048)) : json(nullptr)},
        {"parent_queryid", parent ? json(parent->queryid) : json(nullptr)},
        {"parent_calls", parent ? json(parent->calls) : json(nullptr)},
        {"parent_rows_per_call", parent ? json(round_to(parent->rows / parent->calls, 3)) : json(nullptr)},
        {"calls_per_parent", parent ? json(round_to(per_parent, 2)) : json(nullptr)},
        {"mean_ms", round_to(child.total_exec_ms / child.calls, 4)},
        {"total_ms", round_to(child.total_exec_ms, 3)}};
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> low_cache_hit(const Workload& w, const RuleParams& p) {
  double hit = w.counter_delta("blks_hit"), read = w.counter_delta("blks_read");
  double blocks = hit + read;
  if (blocks <= 0 || w.time_base_s <= 0) return {};
  double ratio = hit / blocks;
  double per_s = blocks / w.time_base_s;
  if (ratio >= p["min_hit_ratio"] || per_s < p["min_blocks_per_s"]) return {};
  Finding f = p.make_finding(w.snap->database);
  f.component = w.component;
  f.severity = ratio < 0.90 ? Severity::high : ratio < 0.95 ? Severity::medium : Severity::low;
  f.title =
      fmt::format("Only {} of block reads in {} come from shared buffers", percent(ratio), w.snap->database);
  double shared_buffers = 0;
  if (auto it = w.snap->settings.find("shared_buffers"); it != w.snap->settings.end()) {
    // "16384 8kB": pages of 8 kB.
    double pages = std::atof(it->second.c_str());
    shared_buffers = it->second.find("8kB") != std::string::npos ? pages * 8192 : pages;
  }
  f.detail =
      fmt::format("{} block reads per second, {} of them from disk or the OS cache; shared_buffers is {}.",
                  human_count(per_s), human_count(read / w.time_base_s), human_bytes(shared_buffers));
  f.impact = {round_to(1 - ratio, 4), "block_reads"};
  f.evidence = {{"database", w.snap->database},
                {"hit_ratio", round_to(ratio, 4)},
                {"blks_hit", hit},
                {"blks_read", read},
                {"blocks_per_s", round_to(per_s, 1)},
                {"shared_buffers_bytes", shared_buffers}};
  f.remediation.summary =
      "Cut the working set first (indexes instead of sequential scans), then size shared_buffers to about 25 "
      "% "
      "of RAM or add memory.";
  return {f};
}

std::vector<std::string> collection_notes(const Workload& w) {
  const Snapshot& s = *w.snap;
  std::vector<std::string> notes = s.notes;
  if (s.pgss_dealloc > 0)
    notes.push_back(fmt::format(
        "pg_stat_statements evicted {:.0f} entries {} (pg_stat_statements.max = {:.0f}): rare statements are "
        "missing from these statistics; raise pg_stat_statements.max",
        s.pgss_dealloc, s.window_s > 0 ? "during the window" : "since its last reset", s.pgss_max));
  if (s.window_s <= 0 && s.stats_age_s && *s.stats_age_s < 3600)
    notes.push_back(
        fmt::format("cumulative statistics cover only the last {:.0f} s (pg_stat_statements was reset "
                    "then): judge them with care or use a sampling window",
                    *s.stats_age_s));
  if (!s.pgss_all_visible)
    notes.push_back(
        "this role sees only its own statements' text: grant it pg_read_all_stats (or pg_monitor)");
  if (!s.hypopg)
    notes.push_back(
        "HypoPG is not installed in this database: index suggestions are not checked with a "
        "hypothetical index (CREATE EXTENSION hypopg)");
  if (s.statements.empty())
    notes.push_back(s.window_s > 0
                        ? "no statement ran in this database during the window: was the load running?"
                        : "pg_stat_statements holds no statement for this database");
  size_t failed = 0;
  std::string first_error;
  for (const auto& plan : s.plans)
    if (!plan.error.empty() && failed++ == 0) first_error = plan.error;
  if (failed)
    notes.push_back(fmt::format("{} of {} top statements could not be planned (first: {})", failed,
                                s.plans.size(), first_error));
  return notes;
}

std::vector<Metric> workload_metrics(const Workload& w, const std::string& target) {
  std::map<std::string, std::string> labels = {{"target", target}, {"database", w.snap->database}};
  std::vector<Metric> m;
  m.push_back({"pg.statements", static_cast<double>(w.snap->statements.size()), "statements", labels});
  m.push_back({"pg.db_time_ms", round_to(w.db_time_ms, 3), "ms", labels});
  if (w.time_base_s > 0) {
    m.push_back({"pg.db_time_ms_per_s", round_to(w.per_s(w.db_time_ms), 3), "ms/s", labels});
    m.push_back({"pg.calls_per_s", round_to(w.per_s(w.calls), 2), "calls/s", labels});
    m.push_back({"pg.xact_per_s", round_to(w.per_s(w.xacts), 2), "xact/s", labels});
  }
  // chokepoint's own cost on the server: its statements during the window.
  m.push_back({"pg.chokepoint_statements", w.snap->self_calls, "calls", labels});
  m.push_back({"pg.chokepoint_server_ms", round_to(w.snap->self_exec_ms, 3), "ms", labels});
  m.push_back({"pg.activity_samples", static_cast<double>(w.snap->activity.size()), "samples", labels});
  double hit = w.counter_delta("blks_hit"), read = w.counter_delta("blks_read");
  if (hit + read > 0) m.push_back({"pg.cache_hit_ratio", round_to(hit / (hit + read), 4), "ratio", labels});
  return m;
}

Judgement judge(const Snapshot& snap, const Target& target, const Settings& settings) {
  Judgement j;
  Workload w = derive_workload(snap);
  std::set<int64_t> indexed;  // statements another finding already explains
  if (settings.enabled("db.missing_index")) {
    for (auto& f : missing_index(w, settings.params("db.missing_index"))) {
      for (const auto& id : f.evidence["queryids"]) indexed.insert(id.get<int64_t>());
      j.findings.push_back(std::move(f));
    }
  }
  std::vector<Finding> locks;
  if (settings.enabled("db.lock_contention"))
    locks = lock_contention(w, settings.params("db.lock_contention"));
  // A statement whose time is lock waiting is explained by the lock finding, not slow by itself.
  for (const auto& f : locks) {
    auto waiting = sql_fingerprint(f.evidence["waiting_query"].get<std::string>());
    for (const auto& st : snap.statements)
      if (waiting && sql_fingerprint(st.query) == waiting) indexed.insert(st.queryid);
  }
  if (settings.enabled("db.slow_query"))
    for (auto& f : slow_query(w, settings.params("db.slow_query"), indexed))
      j.findings.push_back(std::move(f));
  for (auto& f : locks) j.findings.push_back(std::move(f));
  judge_rule(j, settings, "db.n_plus_one", n_plus_one, w);
  judge_rule(j, settings, "db.duplicate_index", duplicate_index, w);
  judge_rule(j, settings, "db.unused_index", unused_index, w);
  judge_rule(j, settings, "db.low_cache_hit", low_cache_hit, w);
  judge_rule(j, settings, "db.pool_saturation", connection_saturation, w);
  judge_rule(j, settings, "db.no_connection_pooling", no_connection_pooling, w);
  judge_rule(j, settings, "db.idle_in_transaction", idle_in_transaction, w);
  j.notes = collection_notes(w);
  j.metrics = workload_metrics(w, target.name);
  j.levers.postgres.push_back(postgres_load(w, target.name));
  return j;
}

}  // namespace cp::pg
