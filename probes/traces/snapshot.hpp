// What the trace reader measured: aggregates per route, statement and external dependency, plus
// per-request patterns (repetitions, sequential calls). Rules apply thresholds to these.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/json_optional.hpp"

namespace cp::traces {

struct Latency {  // a Histogram summary, ms
  double count = 0, mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Latency, count, mean, p50, p95, p99, max)

// A per-request pattern: one `key` (statement, call, or sequence) seen `repeats` times in one
// request, in `requests` requests costing `total_ms` in all (and `saved_ms` if parallelized).
struct Pattern {
  std::string kind;  // "n_plus_one" | "repeated_call" | "sequential"
  std::string key;   // statement text, "GET host/path", or "call → call → call"
  int repeats = 0;
  double requests = 0;
  double total_ms = 0;
  double saved_ms = 0;  // sequential: sum over requests of (sum - max) of the calls
  std::string parent;   // name of the span the repetitions hang under (first seen)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Pattern, kind, key, repeats, requests, total_ms, saved_ms,
                                                parent)

struct SelfTime {
  std::string name;
  double self_ms = 0;
  double count = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SelfTime, name, self_ms, count)

struct Route {
  std::string service, route;
  double requests = 0, errors = 0;
  double request_ms = 0;  // sum of request durations
  Latency latency;
  // Time attributed inside the requests (concurrent calls can add up to more than request_ms).
  double database_ms = 0, cache_ms = 0, external_ms = 0, code_ms = 0;
  std::vector<SelfTime> self_time;  // own-code time by span name, largest first
  std::vector<Pattern> patterns;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Route, service, route, requests, errors, request_ms, latency,
                                                database_ms, cache_ms, external_ms, code_ms, self_time,
                                                patterns)

struct Statement {
  std::string text;    // normalized ($n)
  std::string system;  // db.system
  bool cache = false;
  double count = 0, total_ms = 0;
  Latency latency;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Statement, text, system, cache, count, total_ms, latency)

struct CallStats {
  std::string call;  // "GET host/path-template"
  double count = 0, total_ms = 0;
  Latency latency;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CallStats, call, count, total_ms, latency)

struct External {
  std::string host;  // host[:port] or peer service
  double count = 0, errors = 0, timeouts = 0, server_errors = 0, total_ms = 0;
  Latency latency;
  double requests = 0;           // requests that called it
  double request_ms = 0;         // their total duration
  std::vector<CallStats> calls;  // by endpoint, most time first (top 10)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(External, host, count, errors, timeouts, server_errors,
                                                total_ms, latency, requests, request_ms, calls)

struct InputFile {
  std::string name, format;
  double bytes = 0, spans = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(InputFile, name, format, bytes, spans)

struct Snapshot {
  std::vector<InputFile> files;
  double spans = 0, traces = 0, requests = 0;
  double orphans = 0;  // spans whose parent never arrived
  double skewed = 0;   // children reaching outside their parent's interval (clock skew), clipped
  double duplicates = 0;
  std::vector<Route> routes;
  std::vector<Statement> statements;
  std::vector<External> externals;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, files, spans, traces, requests, orphans, skewed,
                                                duplicates, routes, statements, externals)

}  // namespace cp::traces
