// Levers on reads: a cache for rarely written tables (or a read repeated within a request, from
// traces) and read replicas for a read-heavy database.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "core/advice_levers.hpp"
#include "util/format.hpp"

namespace cp::levers {

// --- cache -------------------------------------------------------------------------------------

namespace {

double writes_per_read(const TableLoad& t) {
  return t.writes() / std::max({t.scans, t.read_calls, 1.0});
}

const TableLoad* find_table(const PostgresLoad& pg, const std::string& qualified) {
  for (const auto& t : pg.tables)
    if (t.schema + "." + t.name == qualified || t.name == qualified) return &t;
  return nullptr;
}

}  // namespace

// Read statements grouped by the tables they read, when every one of them is rarely written.
std::map<std::string, CacheGroup> cacheable_reads(const PostgresLoad& pg, const Lever& lv) {
  std::map<std::string, CacheGroup> groups;
  for (const auto& st : pg.reads) {
    if (st.tables.empty()) continue;
    std::vector<const TableLoad*> tables;
    for (const auto& name : st.tables) {
      const TableLoad* t = find_table(pg, name);
      if (!t || writes_per_read(*t) > lv["max_writes_per_read"]) {
        tables.clear();
        break;
      }
      tables.push_back(t);
    }
    if (tables.empty()) continue;
    std::string key;
    for (const auto* t : tables) key += (key.empty() ? "" : ", ") + table_name(*t);
    CacheGroup& g = groups[key];
    g.tables = tables;
    g.reads.push_back(&st);
    g.read_ms += st.total_ms;
    g.calls += st.calls;
  }
  return groups;
}

namespace {

// What a cache over a group's tables would hold and serve.
struct CacheEstimate {
  double writes = 0, reads = 0, bytes = 0;
  double writes_per_read = 0;
  std::optional<double> write_interval_s;  // the TTL bound; none without a write in the window
  bool in_process = false;                 // small enough for a per-instance cache
  double hit = 0;                          // the expected hit ratio
};

CacheEstimate estimate_cache(const PostgresLoad& pg, const CacheGroup& g, const CacheLoad* redis,
                             const Lever& lv) {
  CacheEstimate e;
  for (const auto* t : g.tables) {
    e.writes += t->writes();
    e.reads += std::max(t->scans, t->read_calls);
    e.bytes += t->size_bytes;
  }
  e.writes_per_read = e.writes / std::max(e.reads, 1.0);
  if (e.writes > 0) e.write_interval_s = pg.window_s / e.writes;
  e.in_process = e.bytes <= lv["max_in_process_bytes"];
  e.hit = clamp01(1 - e.writes_per_read);
  if (!e.in_process && redis && redis->hit_ratio) e.hit = std::min(e.hit, *redis->hit_ratio);
  return e;
}

json cache_evidence(const CacheGroup& g, const CacheEstimate& e, double calls_per_s, double share) {
  std::vector<std::string> names, queries;
  for (const auto* t : g.tables) names.push_back(table_name(*t));
  for (const auto* st : g.reads) queries.push_back(one_line(st->query, 200));
  json interval = e.write_interval_s ? json(round_to(*e.write_interval_s, 2)) : json(nullptr);
  return {{"tables", names},
          {"queries", queries},
          {"read_calls", g.calls},
          {"read_calls_per_s", round_to(calls_per_s, 1)},
          {"read_ms", round_to(g.read_ms, 1)},
          {"db_time_share", round_to(share, 4)},
          {"writes", e.writes},
          {"writes_per_read", round_to(e.writes_per_read, 5)},
          {"write_interval_s", interval},
          {"ttl_bound_s", interval},
          {"table_bytes", e.bytes},
          {"layer", e.in_process ? "in-process" : "redis"},
          {"expected_hit_ratio", round_to(e.hit, 4)}};
}

}  // namespace

std::optional<Advice> cache_group(const PostgresLoad& pg, const std::string& key, const CacheGroup& g,
                                  const LeverInputs& in, const Lever& lv) {
  double share = pg.db_time_ms > 0 ? g.read_ms / pg.db_time_ms : 0;
  double calls_per_s = per_s(g.calls, pg.window_s);
  if (share < lv["min_db_time_share"] || calls_per_s < lv["min_calls_per_s"]) return std::nullopt;
  const CacheLoad* redis = in.redis.empty() ? nullptr : &in.redis.front();
  const CacheEstimate e = estimate_cache(pg, g, redis, lv);
  Advice a = lv.make("cache", pg.component, pg.target);
  a.title = fmt::format("Cache reads of {}: {} of database time, {:.0f} reads/s, {}", key, percent(share),
                        calls_per_s,
                        e.writes > 0 ? fmt::format("one row write every {:.1f} s", *e.write_interval_s)
                                     : fmt::format("not written once in {:.0f} s", pg.window_s));
  a.detail = fmt::format(
      "{} read statement{} over {} ({} of data) take {} in {:.0f} s while the table{} saw {} row writes "
      "({:.4f} per "
      "read). A {} cache with a TTL {} would serve them; invalidate on write.",
      g.reads.size(), g.reads.size() == 1 ? "" : "s", key, human_bytes(e.bytes), human_ms(g.read_ms),
      pg.window_s, g.tables.size() == 1 ? "" : "s", e.writes, e.writes_per_read,
      e.in_process ? "small in-process (per instance)" : "shared (Redis)",
      e.write_interval_s ? fmt::format("below the write interval of {:.1f} s", *e.write_interval_s)
                         : fmt::format("of at least the {:.0f} s window (no write seen)", pg.window_s));
  a.evidence = cache_evidence(g, e, calls_per_s, share);
  if (redis) {
    a.evidence["redis_hit_ratio"] = redis->hit_ratio ? json(round_to(*redis->hit_ratio, 4)) : json(nullptr);
    a.evidence["redis_evicted_keys"] = redis->evicted_keys;
    a.measured_by.emplace_back("Redis INFO stats (keyspace hits/misses, evicted_keys)");
  }
  a.expected_gain = {round_to(share * e.hit, 4), "db_time",
                     fmt::format("about {} of database time ({} of reads served from the cache)",
                                 percent(share * e.hit), percent(e.hit))};
  a.preconditions = {"the readers accept data up to one TTL old, or writes invalidate the cached entries",
                     e.in_process ? "a per-instance copy is fine (small, same data everywhere)"
                                  : "a shared cache (Redis) reachable from every instance"};
  if (redis && redis->evicted_keys > 0)
    a.preconditions.push_back(fmt::format(
        "Redis already evicts keys ({} in the window): give it memory first", redis->evicted_keys));
  a.confidence = round_to(
      std::min(0.9, margin_confidence(share, lv["min_db_time_share"]) + (e.writes == 0 ? 0.1 : 0)), 2);
  a.measured_by.insert(a.measured_by.begin(), {std::string(kStatements), std::string(kTables)});
  return a;
}

std::optional<Advice> cache_from_traces(const TraceLoad& t, const Lever& lv) {
  const TraceRead* best = nullptr;
  for (const auto& r : t.repeated_reads)
    if (r.repeats_per_request >= lv["min_repeats_per_request"] && (!best || r.total_ms > best->total_ms))
      best = &r;
  if (!best) return std::nullopt;
  Advice a = lv.make("cache", "service:" + best->service, t.target);
  a.title = fmt::format("Cache a repeated read per request: {} runs {:.0f} times per {} request",
                        one_line(best->query, 80), best->repeats_per_request, best->route);
  a.detail = fmt::format(
      "In {} requests the same read ran {:.1f} times each ({} in all). A request-scoped memo (or batching "
      "the "
      "lookups) removes the repeats.",
      best->requests, best->repeats_per_request, human_ms(best->total_ms));
  a.evidence = {{"queries", {best->query}},
                {"route", best->route},
                {"requests", best->requests},
                {"repeats_per_request", round_to(best->repeats_per_request, 2)},
                {"read_ms", round_to(best->total_ms, 1)}};
  double saved = best->repeats_per_request > 0 ? 1 - 1 / best->repeats_per_request : 0;
  a.expected_gain = {
      round_to(saved, 4), "repeated_read_time",
      fmt::format("{} of this read's time (all but the first read per request)", percent(saved))};
  a.preconditions = {"the data does not change within one request"};
  a.confidence = round_to(margin_confidence(best->repeats_per_request, lv["min_repeats_per_request"]), 2);
  a.measured_by = {"traces (statements per request)"};
  return a;
}

// --- read replicas -----------------------------------------------------------------------------

namespace {

// CQRS: aggregate reads over write-hot tables want a read model of their own. Their time; the
// tables in `tables`.
double aggregates_over_written_tables(const PostgresLoad& pg, const Lever& lv,
                                      std::set<std::string>& tables) {
  double ms = 0;
  for (const auto& st : pg.reads) {
    if (!st.aggregate) continue;
    for (const auto& name : st.tables)
      if (const TableLoad* t = find_table(pg, name);
          t && writes_per_read(*t) >= lv["cqrs_min_writes_per_read"]) {
        ms += st.total_ms;
        tables.insert(table_name(*t));
        break;
      }
  }
  return ms;
}

json top_reads(const PostgresLoad& pg) {
  json top = json::array();
  for (size_t i = 0; i < std::min<size_t>(3, pg.reads.size()); ++i)
    top.push_back({{"query", one_line(pg.reads[i].query, 160)},
                   {"total_ms", round_to(pg.reads[i].total_ms, 1)},
                   {"calls", pg.reads[i].calls}});
  return top;
}

}  // namespace

std::optional<Advice> read_replicas(const PostgresLoad& pg, const Lever& lv) {
  if (pg.window_s <= 0 || pg.read_ms <= 0) return std::nullopt;
  double busy = per_s(pg.db_time_ms, pg.window_s);
  double ratio = pg.write_ms > 0 ? pg.read_ms / pg.write_ms : std::numeric_limits<double>::infinity();
  if (ratio < lv["min_read_to_write_ratio"] || busy < lv["min_db_time_ms_per_s"]) return std::nullopt;
  double read_share = pg.read_ms / std::max(pg.db_time_ms, pg.read_ms);
  std::set<std::string> cqrs_tables;
  double cqrs_share = aggregates_over_written_tables(pg, lv, cqrs_tables) / pg.read_ms;
  Advice a = lv.make("read_replicas", pg.component, pg.target);
  std::string ratio_text = std::isinf(ratio) ? "no write time" : fmt::format("{:.0f}:1", ratio);
  a.title = fmt::format("Read replicas fit: reads are {} of database time ({} reads to writes)",
                        percent(read_share), ratio_text);
  a.detail = fmt::format(
      "Statement time by type over {:.0f} s: reads {}, writes {}, other {} ({:.0f} ms/s in all). Replicas "
      "can take "
      "the reads that tolerate replication lag.{}",
      pg.window_s, human_ms(pg.read_ms), human_ms(pg.write_ms), human_ms(pg.other_ms), busy,
      cqrs_share >= lv["cqrs_min_read_share"]
          ? fmt::format(
                " {} of the read time is aggregates over write-hot tables ({}): a separate read model "
                "(CQRS: a summary table or materialized view kept up to date) fits them better than a "
                "replica.",
                percent(cqrs_share), fmt::join(cqrs_tables, ", "))
          : "");
  a.evidence = {{"read_ms", round_to(pg.read_ms, 1)},
                {"write_ms", round_to(pg.write_ms, 1)},
                {"other_ms", round_to(pg.other_ms, 1)},
                {"read_share", round_to(read_share, 4)},
                {"read_to_write_ratio", std::isinf(ratio) ? json(nullptr) : json(round_to(ratio, 2))},
                {"db_time_ms_per_s", round_to(busy, 1)},
                {"top_reads", top_reads(pg)},
                {"cqrs_tables", std::vector<std::string>(cqrs_tables.begin(), cqrs_tables.end())},
                {"cqrs_read_share", round_to(cqrs_share, 4)}};
  a.expected_gain = {round_to(read_share, 4), "db_time",
                     fmt::format("up to {} of database time moves to replicas", percent(read_share))};
  a.preconditions = {
      "reads tolerate replication lag; read-after-write reads (a user's own fresh writes) stay on "
      "the primary",
      "the application (or a proxy) routes read-only transactions to the replicas"};
  a.confidence =
      round_to(margin_confidence(std::isinf(ratio) ? 1e9 : ratio, lv["min_read_to_write_ratio"]), 2);
  a.measured_by = {std::string(kStatements)};
  return a;
}

}  // namespace cp::levers
