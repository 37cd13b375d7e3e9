// The levers of advise() (src/core/advice*.cpp), internal to it: what every lever shares (the
// lever's thresholds, the measurement sources, confidence from a margin) and one function per lever.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/advice.hpp"

namespace cp::levers {

inline constexpr std::string_view kStatements =
    "pg_stat_statements (statement time by type, over the window)";
inline constexpr std::string_view kTables = "pg_stat_user_tables (row reads and writes, over the window)";
inline constexpr std::string_view kActivity = "pg_stat_activity (sampled through the window)";
inline constexpr std::string_view kDatabase = "pg_stat_database (sessions and transactions, over the window)";

// One lever being judged: its effective thresholds and a pre-filled piece of advice.
struct Lever {
  RuleParams params;
  Advice make(std::string_view lever, const std::string& component, const std::string& target) const {
    Advice a;
    a.id = std::string(params.spec().id);
    a.lever = std::string(lever);
    a.component = component;
    a.target = target;
    for (const auto& t : params.spec().thresholds)
      a.thresholds[std::string(t.name)] = {{"value", params[t.name]}, {"unit", t.unit}, {"source", t.source}};
    return a;
  }
  double operator[](std::string_view name) const { return params[name]; }
};

inline double clamp01(double v) {
  return std::clamp(v, 0.0, 1.0);
}

// Confidence grows with how far past its threshold a measurement is: 0.5 at the threshold, up to
// `cap` at `factor` times it.
inline double margin_confidence(double value, double threshold, double factor = 4, double cap = 0.9) {
  if (threshold <= 0) return cap;
  double over = std::log(std::max(value / threshold, 1.0)) / std::log(factor);
  return std::min(cap, 0.5 + (cap - 0.5) * clamp01(over));
}

inline double connection_usage(const PostgresLoad& pg) {
  return pg.usable_connections > 0 ? pg.connections_peak / pg.usable_connections : 0;
}

inline double per_s(double v, double window_s) {
  return window_s > 0 ? v / window_s : 0;
}

inline std::string table_name(const TableLoad& t) {
  return t.schema == "public" || t.schema.empty() ? t.name : t.schema + "." + t.name;
}

// Read statements whose tables are all rarely written, grouped by those tables.
struct CacheGroup {
  std::vector<const TableLoad*> tables;
  std::vector<const ReadStatement*> reads;
  double read_ms = 0, calls = 0;
};

// Each returns the lever's advice when the measurements call for it.
// advice.cpp
std::optional<Advice> do_not_scale_out(const LeverInputs& in, const Report& r, const Lever& lv);
std::optional<Advice> scale_out(const LeverInputs& in, const Report& r, const Lever& lv);
// advice_connections.cpp
std::optional<Advice> no_pooler(const PostgresLoad& pg, const Lever& lv);
std::optional<Advice> review_pgbouncer(const BouncerLoad& b, const LeverInputs& in, const Lever& lv);
std::optional<Advice> rate_limiting(const PostgresLoad& pg, const Lever& lv);
// advice_reads.cpp
std::map<std::string, CacheGroup> cacheable_reads(const PostgresLoad& pg, const Lever& lv);
std::optional<Advice> cache_group(const PostgresLoad& pg, const std::string& key, const CacheGroup& g,
                                  const LeverInputs& in, const Lever& lv);
std::optional<Advice> cache_from_traces(const TraceLoad& t, const Lever& lv);
std::optional<Advice> read_replicas(const PostgresLoad& pg, const Lever& lv);
// advice_partitioning.cpp
std::optional<Advice> partitioning(const PostgresLoad& pg, const TableLoad& t, const Lever& lv);

}  // namespace cp::levers
