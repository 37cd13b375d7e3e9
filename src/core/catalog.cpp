#include "core/catalog.hpp"

namespace cp {

namespace {
constexpr std::string_view kPgHero = "PgHero (ankane/pghero) defaults";
constexpr std::string_view kDexter = "Dexter (ankane/dexter) --min-cost-savings-pct default";
constexpr std::string_view kSentryN1 = "Sentry N+1 Queries detector (count >= 5 repeated spans, total >= 50 ms)";
constexpr std::string_view kChokepoint = "chokepoint default (documented in the rule's README)";
}  // namespace

const std::vector<RuleSpec>& rule_catalog() {
  static const std::vector<RuleSpec> catalog = {
      {"db.missing_index",
       Category::database,
       "a hot query's plan scans a large table sequentially with a selective filter, and an index on the "
       "filtered columns would cut its estimated cost by at least half (measured with a HypoPG hypothetical "
       "index when the extension is installed)",
       "Create the suggested index with CREATE INDEX CONCURRENTLY (no write lock), then re-run chokepoint.",
       {
           {"min_table_rows", 10000, "rows", "smallest table worth an index suggestion", kChokepoint},
           {"max_selectivity", 0.1, "ratio", "estimated rows returned / table rows for a selective filter",
            kChokepoint},
           {"min_cost_savings_ratio", 0.5, "ratio", "estimated cost must fall by at least this share", kDexter},
           {"min_db_time_share", 0.01, "ratio", "share of database time that makes a query hot", kChokepoint},
           {"high_db_time_share", 0.2, "ratio", "share of database time from which the finding is high",
            kChokepoint},
           {"critical_db_time_share", 0.5, "ratio", "share of database time from which it is critical",
            kChokepoint},
       },
       {"table", "schema", "columns", "query", "queryid", "queryids", "calls", "mean_ms", "total_ms", "db_time_share", "table_rows",
        "estimated_rows", "selectivity", "cost_before", "cost_after", "cost_source", "plan_node"}},
      {"db.slow_query",
       Category::database,
       "a query dominates database time (share of all statement time in the window) or is slow per call "
       "(mean >= 20 ms over >= 100 calls)",
       "EXPLAIN (ANALYZE, BUFFERS) the query on a copy of production data and fix the plan: an index, a "
       "rewrite, fewer rows, or caching its result.",
       {
           {"min_mean_ms", 20, "ms", "mean execution time of a slow query", kPgHero},
           {"min_calls", 100, "calls", "calls needed before the mean counts", kPgHero},
           {"dominant_db_time_share", 0.5, "ratio", "share of database time that dominates", kChokepoint},
           {"min_db_time_ms_per_s", 50, "ms/s", "database busy enough for a share to matter", kChokepoint},
       },
       {"query", "queryid", "calls", "mean_ms", "total_ms", "db_time_share", "rows_per_call", "calls_per_s",
        "route", "service", "p95_ms"}},
      {"db.n_plus_one",
       Category::database,
       "the same single-row lookup repeats many times per transaction (statistics) or under one parent "
       "span (traces); with statistics, a parent query whose calls x rows per call matches the lookup's "
       "calls is named",
       "Fetch the rows in one query (JOIN, WHERE id = ANY($1), or the ORM's eager loading: "
       "includes/prefetch_related/JOIN FETCH) instead of one query per row.",
       {
           {"min_calls_per_parent", 5, "calls", "repetitions per transaction / parent call", kSentryN1},
           {"max_rows_per_call", 1.5, "rows", "rows per call of a single-row lookup", kChokepoint},
           {"min_calls", 100, "calls", "calls in the window before statistics count", kChokepoint},
           {"parent_match_tolerance", 0.25, "ratio",
            "relative difference allowed between parent rows and child calls", kChokepoint},
           {"min_total_ms", 50, "ms", "time the repetitions cost per request (traces)", kSentryN1},
       },
       {"query", "queryid", "calls", "rows_per_call", "calls_per_xact", "parent_query", "parent_queryid",
        "parent_calls", "parent_rows_per_call", "calls_per_parent", "mean_ms", "total_ms", "route", "service",
        "repetitions_per_request", "requests", "time_per_request_ms"}},
      {"db.low_cache_hit",
       Category::database,
       "the shared-buffer hit ratio is below 0.99 on a busy database",
       "Give PostgreSQL more shared_buffers (about 25 % of RAM) or more RAM, or cut the working set "
       "(indexes instead of scans, archive cold rows).",
       {
           {"min_hit_ratio", 0.99, "ratio", "shared-buffer hit ratio of a healthy OLTP database", kPgHero},
           {"min_blocks_per_s", 1000, "blocks/s", "block accesses per second of a busy database", kChokepoint},
       },
       {"database", "hit_ratio", "blks_hit", "blks_read", "blocks_per_s", "shared_buffers_bytes"}},
  };
  return catalog;
}

const RuleSpec* find_rule(std::string_view id) {
  for (const auto& r : rule_catalog())
    if (r.id == id) return &r;
  return nullptr;
}

}  // namespace cp
