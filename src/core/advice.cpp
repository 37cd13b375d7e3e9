// advise(): the verdict-level levers (scale out, or not) and the order of all advice; the other
// levers are in advice_connections.cpp, advice_reads.cpp and advice_partitioning.cpp.
#include "core/advice.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/advice_levers.hpp"
#include "util/format.hpp"

namespace cp {

namespace levers {

// --- verdict-level advice ----------------------------------------------------------------------

namespace {

const Finding* top_finding(const Report& r) {
  if (!r.verdict.category) return nullptr;
  for (const auto& f : r.findings)
    if (f.category == *r.verdict.category) return &f;
  return nullptr;
}

}  // namespace

std::optional<Advice> do_not_scale_out(const LeverInputs& in, const Report& r, const Lever& lv) {
  auto c = r.verdict.category;
  if (!c || (*c != Category::database && *c != Category::network)) return std::nullopt;
  if (r.verdict.confidence < lv["min_verdict_confidence"]) return std::nullopt;
  const Finding* top = top_finding(r);
  Advice a = lv.make("scale_out", top ? top->component : std::string(to_string(*c)), top ? top->target : "");
  a.evidence = {{"verdict", to_string(*c)}, {"verdict_confidence", round_to(r.verdict.confidence, 4)}};
  if (top) a.evidence["top_rule"] = top->rule;
  std::string numbers;
  for (const auto& pg : in.postgres) {
    a.evidence["connections_peak"] = pg.connections_peak;
    a.evidence["usable_connections"] = pg.usable_connections;
    a.evidence["connection_usage_ratio"] = round_to(connection_usage(pg), 4);
    a.evidence["active_sessions_avg"] = round_to(pg.active_avg, 2);
    numbers = fmt::format(
        " The database already serves {} connections of {} usable ({}), {:.1f} active on average.",
        pg.connections_peak, pg.usable_connections, percent(connection_usage(pg)), pg.active_avg);
    a.measured_by.emplace_back(kActivity);
    break;
  }
  for (const auto& pgb : in.pgbouncer) {
    a.evidence["pool_clients_waiting_peak"] = pgb.cl_waiting_peak;
    a.evidence["pool_maxwait_s"] = round_to(pgb.maxwait_s, 3);
    if (pgb.cl_waiting_peak > 0)
      numbers += fmt::format(" Up to {} clients already wait for a pooled connection (max wait {:.2f} s).",
                             pgb.cl_waiting_peak, pgb.maxwait_s);
    a.measured_by.emplace_back("PgBouncer SHOW POOLS (sampled)");
    break;
  }
  bool db = *c == Category::database;
  a.title =
      db ? "Do not add application instances: the bottleneck is the database, and more instances add "
           "connections and load to it, not capacity"
         : "Do not add application instances: the time goes to an external dependency, and more instances "
           "multiply the calls to it";
  a.detail = fmt::format("The verdict is {} ({} confidence){}.{}", to_string(*c),
                         percent(r.verdict.confidence), top ? ": " + top->title : "", numbers);
  a.expected_gain = {
      std::nullopt, "throughput",
      db ? "none from more instances; fixing the top finding is what adds capacity"
         : "none from more instances; a faster, cached or parallel dependency call is what helps"};
  a.confidence = round_to(r.verdict.confidence, 2);
  a.measured_by.emplace_back("the ranked findings (verdict)");
  return a;
}

std::optional<Advice> scale_out(const LeverInputs& in, const Report& r, const Lever& lv) {
  auto c = r.verdict.category;
  if (!c || (*c != Category::infrastructure && *c != Category::code)) return std::nullopt;
  Advice a = lv.make("scale_out", std::string(to_string(*c)), "");
  a.evidence = {{"verdict", to_string(*c)}};
  std::string why;
  bool measured_idle = false;
  for (const auto& pg : in.postgres) {
    double busy = per_s(pg.db_time_ms, pg.window_s);
    double usage = connection_usage(pg);
    if (pg.window_s <= 0 || busy > lv["max_db_time_ms_per_s"] || usage > lv["max_connection_usage"])
      return std::nullopt;  // the database is not idle: more instances would load it
    measured_idle = true;
    a.evidence["db_time_ms_per_s"] = round_to(busy, 1);
    a.evidence["connections_peak"] = pg.connections_peak;
    a.evidence["usable_connections"] = pg.usable_connections;
    a.evidence["connection_headroom"] = pg.usable_connections - pg.connections_peak;
    why = fmt::format("the database is idle ({:.0f} ms of statement time per second, {} of {} connections)",
                      busy, pg.connections_peak, pg.usable_connections);
    a.measured_by.emplace_back(kStatements);
    a.measured_by.emplace_back(kActivity);
  }
  if (!measured_idle) {
    for (const auto& t : in.traces)
      if (t.database_share && *t.database_share <= lv["max_database_share"]) {
        measured_idle = true;
        a.evidence["database_share"] = round_to(*t.database_share, 4);
        why = fmt::format("requests spend {} of their time in the database", percent(*t.database_share));
        a.measured_by.emplace_back("traces (critical-path attribution)");
      }
  }
  if (!measured_idle) return std::nullopt;
  a.title = fmt::format("Scaling out fits: the bottleneck is {} while {}", to_string(*c), why);
  a.detail = fmt::format(
      "{}. More instances (or more CPU per instance) add capacity where the time goes; each new instance "
      "opens its own connection pool, so keep their sum under max_connections.",
      r.verdict.headline);
  a.expected_gain = {std::nullopt, "throughput",
                     "throughput grows with instances until the database gets busy"};
  a.preconditions = {"the application is stateless behind the load balancer (no sticky in-memory sessions)",
                     "the sum of all instances' pools stays below the database's usable connections"};
  a.confidence = round_to(std::min(0.85, r.verdict.confidence), 2);
  a.measured_by.emplace_back("the ranked findings (verdict)");
  return a;
}

}  // namespace levers

namespace {

void add(std::vector<Advice>& out, std::optional<Advice> a) {
  if (a) out.push_back(std::move(*a));
}

}  // namespace

std::vector<Advice> advise(const LeverInputs& in, const Report& ranked, const Settings& settings) {
  using namespace levers;
  auto lever = [&](std::string_view id) -> std::optional<Lever> {
    if (!settings.enabled(id)) return std::nullopt;
    return Lever{settings.params(*find_advice(id))};
  };
  std::vector<Advice> verdict_level, out;
  if (auto lv = lever("advice.do_not_scale_out")) add(verdict_level, do_not_scale_out(in, ranked, *lv));
  if (auto lv = lever("advice.scale_out")) add(verdict_level, scale_out(in, ranked, *lv));
  for (const auto& pg : in.postgres) {
    if (auto lv = lever("advice.connection_pooling")) add(out, no_pooler(pg, *lv));
    if (auto lv = lever("advice.cache"))
      for (const auto& [key, group] : cacheable_reads(pg, *lv))
        add(out, cache_group(pg, key, group, in, *lv));
    if (auto lv = lever("advice.read_replicas")) add(out, read_replicas(pg, *lv));
    if (auto lv = lever("advice.partitioning"))
      for (const auto& t : pg.tables) add(out, partitioning(pg, t, *lv));
    if (auto lv = lever("advice.rate_limiting")) add(out, rate_limiting(pg, *lv));
  }
  if (auto lv = lever("advice.connection_pooling"))
    for (const auto& b : in.pgbouncer) add(out, review_pgbouncer(b, in, *lv));
  if (auto lv = lever("advice.cache"); lv && in.postgres.empty())
    for (const auto& t : in.traces) add(out, cache_from_traces(t, *lv));
  std::stable_sort(out.begin(), out.end(), [](const Advice& a, const Advice& b) {
    return a.expected_gain.share.value_or(0) > b.expected_gain.share.value_or(0);
  });
  verdict_level.insert(verdict_level.end(), std::make_move_iterator(out.begin()),
                       std::make_move_iterator(out.end()));
  return verdict_level;
}

void LeverInputs::append(LeverInputs&& other) {
  auto move_all = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  move_all(postgres, other.postgres);
  move_all(pgbouncer, other.pgbouncer);
  move_all(redis, other.redis);
  move_all(traces, other.traces);
}

}  // namespace cp
