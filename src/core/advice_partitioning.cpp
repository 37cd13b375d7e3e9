// The partitioning lever: range partitioning of a large, append-mostly table by the time column its
// reads filter on, with the purge as DETACH / DROP PARTITION.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "core/advice_levers.hpp"
#include "util/format.hpp"

namespace cp::levers {

// --- partitioning ------------------------------------------------------------------------------

namespace {

std::string partition_interval(double query_window_s, double span_s, int& partitions) {
  static const std::pair<const char*, double> kUnits[] = {
      {"1 hour", 3600}, {"1 day", 86400}, {"1 week", 604800}, {"1 month", 2629800}};
  for (const auto& [name, s] : kUnits)
    if (s >= query_window_s && span_s / s <= 1000) {
      partitions = static_cast<int>(std::ceil(span_s / s));
      return name;
    }
  partitions = static_cast<int>(std::ceil(span_s / 2629800));
  return "1 month";
}

std::string partition_sql(const TableLoad& t, const std::string& interval, bool purge) {
  std::string name = table_name(t);
  return fmt::format(
      "-- range partitioning of {0} by {1}, one partition per {2} (pg_partman can create them ahead)\n"
      "CREATE TABLE {0}_partitioned (LIKE {0} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE "
      "({1});\n"
      "CREATE TABLE {0}_p2026_01 PARTITION OF {0}_partitioned FOR VALUES FROM ('2026-01-01') TO "
      "('2026-02-01');\n"
      "-- primary keys and unique indexes must include {1}; move the rows in batches, then swap the names{3}",
      name, t.range_column, interval,
      purge ? fmt::format("\n-- the purge becomes: ALTER TABLE {0}_partitioned DETACH PARTITION {0}_p2026_01 "
                          "CONCURRENTLY; DROP TABLE {0}_p2026_01;",
                          name)
            : "");
}

// A large table, not partitioned yet, mostly appended to, and read by ranges of a time column.
bool worth_partitioning(const TableLoad& t, const Lever& lv) {
  if (t.partitioned || t.rows < lv["min_table_rows"] || t.size_bytes < lv["min_table_bytes"]) return false;
  if (t.inserts <= 0 || t.inserts < lv["min_insert_to_update_ratio"] * t.updates) return false;
  return !(t.range_column.empty() || t.range_read_calls < lv["min_range_read_calls"]);
}

// The share of the table one range read touches: its rows, or the index rows per scan for aggregates.
std::optional<double> range_read_share(const TableLoad& t) {
  std::optional<double> read_share;
  if (!t.range_aggregate && t.range_rows_per_call > 0)
    read_share = t.range_rows_per_call / t.rows;
  else if (t.idx_scans > 0)
    read_share = t.idx_rows_fetched / t.idx_scans / t.rows;
  if (read_share) read_share = clamp01(*read_share);
  return read_share;
}

json partitioning_evidence(const TableLoad& t, std::optional<double> read_share, std::optional<double> pruned,
                           const std::string& interval, int partitions) {
  return {{"table", table_name(t)},
          {"rows", t.rows},
          {"size_bytes", t.size_bytes},
          {"inserts", t.inserts},
          {"updates", t.updates},
          {"deletes", t.deletes},
          {"range_column", t.range_column},
          {"range_query", one_line(t.range_query, 200)},
          {"range_read_calls", t.range_read_calls},
          {"range_read_ms", round_to(t.range_read_ms, 1)},
          {"read_share_per_query", read_share ? json(round_to(*read_share, 5)) : json(nullptr)},
          {"pruned_share", pruned ? json(round_to(*pruned, 4)) : json(nullptr)},
          {"time_span_s", t.time_span_s ? json(round_to(*t.time_span_s, 0)) : json(nullptr)},
          {"partition_interval", interval},
          {"partitions", partitions > 0 ? json(partitions) : json(nullptr)},
          {"purge_query", t.purge_query.empty() ? json(nullptr) : json(one_line(t.purge_query, 200))},
          {"purge_calls", t.purge_calls}};
}

}  // namespace

std::optional<Advice> partitioning(const PostgresLoad& pg, const TableLoad& t, const Lever& lv) {
  if (!worth_partitioning(t, lv)) return std::nullopt;
  std::optional<double> read_share = range_read_share(t);
  int partitions = 0;
  std::string interval = "1 month";
  if (t.time_span_s && *t.time_span_s > 0)
    interval = partition_interval(read_share.value_or(0.03) * *t.time_span_s, *t.time_span_s, partitions);
  std::optional<double> pruned;
  if (read_share) pruned = clamp01(1 - std::max(*read_share, partitions > 0 ? 1.0 / partitions : 0.0));
  Advice a = lv.make("partitioning", pg.component, pg.target);
  a.title = fmt::format("Partition {} by range of {}: {} rows, {}, appended to and read by time{}",
                        table_name(t), t.range_column, human_count(t.rows), human_bytes(t.size_bytes),
                        t.purge_query.empty() ? "" : " and purged by time");
  a.detail = fmt::format(
      "In {:.0f} s: {} inserts, {} updates, {} deletes; {} range reads on {} took {}{}. {}{}", pg.window_s,
      t.inserts, t.updates, t.deletes, t.range_read_calls, t.range_column, human_ms(t.range_read_ms),
      read_share ? fmt::format(" and touch {} of the table each", percent(*read_share)) : "",
      pruned ? fmt::format("Partitions of {} would let a query skip about {} of the rows. ", interval,
                           percent(*pruned))
             : "",
      t.purge_query.empty() ? "Old data can then go with DROP/DETACH PARTITION instead of DELETE."
                            : "The purge (" + one_line(t.purge_query, 120) +
                                  ") becomes DETACH + DROP PARTITION: no dead rows, no vacuum debt.");
  a.evidence = partitioning_evidence(t, read_share, pruned, interval, partitions);
  a.expected_gain = {
      pruned, "rows_per_range_read",
      pruned ? fmt::format("range reads skip about {} of the rows; purges drop partitions", percent(*pruned))
             : "purges drop partitions instead of deleting rows"};
  a.preconditions = {
      fmt::format("primary keys and unique constraints include {}", t.range_column),
      fmt::format("the hot statements keep filtering on {} (others scan every partition)", t.range_column)};
  a.config = partition_sql(t, interval, !t.purge_query.empty());
  a.confidence = round_to(std::min(0.9, 0.55 + (t.purge_query.empty() ? 0 : 0.15) + (pruned ? 0.1 : 0)), 2);
  a.measured_by = {std::string(kTables), std::string(kStatements), "pg_stats (the time column's histogram)",
                   "pg_class (rows and size)"};
  return a;
}

}  // namespace cp::levers
