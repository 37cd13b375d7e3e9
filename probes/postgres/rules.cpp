#include "probes/postgres/rules.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "probes/postgres/session_rules.hpp"
#include "probes/postgres/sql_shape.hpp"
#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::pg {

namespace {

double table_rows(const Snapshot& s, const std::string& schema, const std::string& name) {
  for (const auto& t : s.tables)
    if (t.schema == schema && t.name == name) return std::max(t.reltuples, t.n_live_tup);
  return 0;
}

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

// The cheapest hypothetical index among `candidates` that the planner used, if any.
const WhatIf* best_what_if(const Plan& plan, const SeqScan& scan,
                           const std::vector<std::vector<std::string>>& candidates) {
  const WhatIf* best = nullptr;
  for (const auto& w : plan.what_if) {
    if (w.schema != scan.schema || w.table != scan.table || !w.used || !w.cost_after) continue;
    if (std::find(candidates.begin(), candidates.end(), w.columns) == candidates.end()) continue;
    bool cheaper = !best || *w.cost_after < *best->cost_after * 0.99 ||
                   (*w.cost_after <= *best->cost_after * 1.01 && w.columns.size() < best->columns.size());
    if (cheaper) best = &w;
  }
  return best;
}

struct IndexSuggestion {
  std::string schema, table;
  std::vector<std::string> columns;
  double rows = 0, estimated_rows = 0;
  std::string node_type, filter;
  std::vector<const Statement*> statements;
  double share = 0;
  std::optional<double> cost_before, cost_after;
};

void describe_suggestion(const IndexSuggestion& s, Finding& f) {
  const Statement& top = *s.statements.front();
  double calls = 0, total_ms = 0;
  json queryids = json::array();
  for (const auto* st : s.statements) {
    calls += st->calls;
    total_ms += st->total_exec_ms;
    queryids.push_back(st->queryid);
  }
  std::string cols = fmt::format("{}", fmt::join(s.columns, ", "));
  f.title = fmt::format("Add an index on {} ({}): a hot query reads all {} rows of it per call", s.table,
                        cols, human_count(s.rows));
  std::string cost;
  if (s.cost_after && s.cost_before)
    cost = fmt::format(
        " With a hypothetical index (HypoPG) the estimated cost falls from {:.1f} to {:.1f} (-{}).",
        *s.cost_before, *s.cost_after, percent(1 - *s.cost_after / *s.cost_before));
  else
    cost = " HypoPG is not installed, so the saving is estimated from the plan's selectivity only.";
  f.detail = fmt::format(
      "{} ran {} times (mean {}, {} of database time). Its generic plan reads {}.{} sequentially ({}, {} "
      "rows, filter {}) to return about {} rows.{}",
      one_line(top.query, 160), human_count(calls), human_ms(calls ? total_ms / calls : 0), percent(s.share),
      s.schema, s.table, s.node_type, human_count(s.rows), s.filter, human_count(s.estimated_rows), cost);
  f.impact = {round_to(s.share, 4), "db_time"};
  f.evidence = {{"table", s.table},
                {"schema", s.schema},
                {"columns", s.columns},
                {"query", one_line(top.query, 2048)},
                {"queryid", top.queryid},
                {"queryids", queryids},
                {"calls", calls},
                {"mean_ms", round_to(calls ? total_ms / calls : 0, 3)},
                {"total_ms", round_to(total_ms, 3)},
                {"db_time_share", round_to(s.share, 4)},
                {"table_rows", s.rows},
                {"estimated_rows", round_to(s.estimated_rows, 1)},
                {"selectivity", s.rows > 0 ? round_to(s.estimated_rows / s.rows, 6) : 1.0},
                {"cost_before", s.cost_before ? json(round_to(*s.cost_before, 2)) : json(nullptr)},
                {"cost_after", s.cost_after ? json(round_to(*s.cost_after, 2)) : json(nullptr)},
                {"cost_source", s.cost_after ? "hypopg" : "plan_estimate"},
                {"plan_node", s.node_type}};
  f.remediation.summary =
      "Create the index without blocking writes (CONCURRENTLY), then re-run chokepoint to see the plan use "
      "it.";
  f.remediation.sql = create_index_sql(s.schema, s.table, s.columns, true) + ";";
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
  std::map<std::string, IndexSuggestion> suggestions;  // keyed by schema.table(columns)
  for (const auto& plan : w.snap->plans) {
    const Statement* st = w.statement(plan.queryid);
    if (!st || w.db_time_ms <= 0) continue;
    double share = st->total_exec_ms / w.db_time_ms;
    if (share < p["min_db_time_share"]) continue;
    for (const auto& scan : seq_scans(plan.plan)) {
      double rows = table_rows(*w.snap, scan.schema, scan.table);
      if (rows < p["min_table_rows"]) continue;
      auto candidates = index_candidates(filter_columns(scan.filter));
      if (candidates.empty()) continue;
      if (scan.plan_rows / rows > p["max_selectivity"]) continue;
      const WhatIf* best = best_what_if(plan, scan, candidates);
      // With HypoPG the planner has the last word: no used hypothetical index, no suggestion.
      if (w.snap->hypopg && !best) continue;
      if (best && plan.total_cost && *best->cost_after > *plan.total_cost * (1 - p["min_cost_savings_ratio"]))
        continue;
      const auto& columns = best ? best->columns : candidates.front();
      if (covered_by_index(w.snap->indexes, scan.schema, scan.table, columns)) continue;

      std::string key = fmt::format("{}.{}({})", scan.schema, scan.table, fmt::join(columns, ","));
      IndexSuggestion& s = suggestions[key];
      if (s.statements.empty()) {
        s = {scan.schema,
             scan.table,
             columns,
             rows,
             scan.plan_rows,
             scan.node_type,
             scan.filter,
             {},
             0,
             plan.total_cost,
             best ? best->cost_after : std::nullopt};
      }
      if (std::find(s.statements.begin(), s.statements.end(), st) == s.statements.end()) {
        s.statements.push_back(st);
        s.share += share;
      }
    }
  }
  std::vector<Finding> out;
  for (const auto& [key, s] : suggestions) {
    Finding f = p.make_finding(fmt::format("{}/{}", w.snap->database, key));
    f.component = w.component;
    f.severity = share_severity(s.share, p);
    describe_suggestion(s, f);
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
  judge_rule(j, settings, "db.low_cache_hit", low_cache_hit, w);
  judge_rule(j, settings, "db.pool_saturation", connection_saturation, w);
  judge_rule(j, settings, "db.no_connection_pooling", no_connection_pooling, w);
  judge_rule(j, settings, "db.idle_in_transaction", idle_in_transaction, w);
  j.notes = collection_notes(w);
  j.metrics = workload_metrics(w, target.name);
  return j;
}

}  // namespace cp::pg
