// Statement rules over pg_stat_statements: db.slow_query, db.n_plus_one, and db.low_cache_hit over
// pg_stat_database. Declared in rules.cpp's table.
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
#include "probes/slow_query.hpp"
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

// The call floor of db.n_plus_one: a count for cumulative statistics, a rate in a window (the same
// at the default 10 s window, reachable by the same load over any window).
bool enough_calls(const Statement& st, const Workload& w, const RuleParams& p) {
  if (w.snap->window_s > 0) return st.calls / w.snap->window_s >= p["min_calls_per_s"];
  return st.calls >= p["min_calls"];
}

}  // namespace

std::vector<Finding> slow_query(const Workload& w, const RuleParams& p, const std::set<int64_t>& covered) {
  std::vector<Finding> out;
  if (w.db_time_ms <= 0) return out;
  double busy_ms_per_s = w.per_s(w.db_time_ms);
  for (const auto& st : w.snap->statements) {
    if (covered.count(st.queryid)) continue;
    double share = st.total_exec_ms / w.db_time_ms;
    double mean = st.total_exec_ms / st.calls;
    SlowQueryGrade grade = grade_slow_query(
        {st.calls, st.total_exec_ms, share, w.time_base_s > 0 ? busy_ms_per_s : 0, w.snap->window_s}, p);
    if (!grade.severity) continue;
    bool slow = mean >= p["min_mean_ms"];
    Finding f = p.make_finding(w.snap->database + "/" + statement_subject(st));
    f.component = w.component;
    // Fast but dominant is worth knowing (where to optimize first), not a bottleneck by itself.
    f.severity = *grade.severity;
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
    if (w.snap->window_s > 0) f.evidence["busy_ms_per_s"] = round_to(st.total_exec_ms / w.snap->window_s, 2);
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
    if (!enough_calls(child, w, p)) continue;
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
    f.severity = repeats >= p["high_calls_per_parent_factor"] * p["min_calls_per_parent"] ? Severity::high
                                                                                          : Severity::medium;
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
  f.severity = ratio < p["high_below_hit_ratio"]     ? Severity::high
               : ratio < p["medium_below_hit_ratio"] ? Severity::medium
                                                     : Severity::low;
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

}  // namespace cp::pg
