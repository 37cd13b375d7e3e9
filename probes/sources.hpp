// Where default thresholds come from: the tools and practices the probes' rule tables cite.
#pragma once

#include <string_view>

namespace cp::sources {

inline constexpr std::string_view kPgHero = "PgHero (ankane/pghero) defaults";
inline constexpr std::string_view kDexter = "Dexter (ankane/dexter) --min-cost-savings-pct default";
inline constexpr std::string_view kSentryN1 =
    "Sentry N+1 Queries detector (count >= 5 repeated spans, total >= 50 ms)";
inline constexpr std::string_view kPgHeroDuplicates =
    "PgHero duplicate_indexes (an index whose columns lead another's on the same table)";
inline constexpr std::string_view kPgHeroUnused =
    "PgHero unused_indexes (idx_scan = 0 since the statistics reset)";
inline constexpr std::string_view kPgHeroPerWindow =
    "PgHero's floors (100 calls x 20 ms = 2 s of execution) per second of chokepoint's default 10 s window "
    "(issue #23: a call count cannot be reached in a window by a slow query from one client)";
inline constexpr std::string_view kChokepoint = "chokepoint default (documented in the rule's README)";
inline constexpr std::string_view kRelative =
    "chokepoint default: a share of the end-user request's critical path (issue #13: 30 statements taking "
    "84 % of a 50 ms request are an N+1 although they total under 50 ms)";
inline constexpr std::string_view kSentryApi = "Sentry N+1 API Calls detector (>= 10 calls, total >= 300 ms)";
inline constexpr std::string_view kSentryHttp =
    "Sentry Consecutive HTTP detector (>= 3 sequential calls, <= 500 ms apart; its 2000 ms saving targets "
    "frontends)";
inline constexpr std::string_view kMixin =
    "kubernetes-mixin CPUThrottlingHigh alert (> 25 % of CFS periods throttled)";
inline constexpr std::string_view kMemoryDoctor =
    "Redis MEMORY DOCTOR (fragmentation ratio > 1.4 with > 10 MB fragmented; instances under 5 MB ignored)";
inline constexpr std::string_view kPgBouncerDocs =
    "PgBouncer docs, SHOW POOLS: maxwait \"if it goes high, increase pool_size\"";
inline constexpr std::string_view kConnAlert =
    "common alerting practice (postgres_exporter mixin): connections above 90 % of max_connections";
}  // namespace cp::sources
