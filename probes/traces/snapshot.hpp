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

// One bar of a latency histogram: `count` requests took [lower_ms, upper_ms).
struct LatencyBin {
  double lower_ms = 0, upper_ms = 0, count = 0;
};
// By hand rather than by the macro: the report (an ordered_json) carries the bars too.
template <typename Json>
void to_json(Json& j, const LatencyBin& b) {
  j = Json{{"lower_ms", b.lower_ms}, {"upper_ms", b.upper_ms}, {"count", b.count}};
}
template <typename Json>
void from_json(const Json& j, LatencyBin& b) {
  b.lower_ms = j.value("lower_ms", 0.0);
  b.upper_ms = j.value("upper_ms", 0.0);
  b.count = j.value("count", 0.0);
}

// A per-request pattern: one `key` (statement, call, or sequence) seen `repeats` times in one
// request, in `requests` requests costing `total_ms` in all (and `saved_ms` if parallelized).
// `path_ms` is the part of it on the request's critical path (wall time, never more than the
// request lasted); `shape` says how the repetitions ran: "serial" (one after another),
// "concurrent" (all at once) or "capped" (at most `concurrency` at a time, most of the window).
struct Pattern {
  // "n_plus_one" (one statement or cache command, per request), "repeated_call" (one endpoint, per
  // request), "fan_out" (calls to one dependency under one parent, capped), "sequential", "identical"
  std::string kind;
  std::string key;  // statement text, "GET host/path", a dependency, or "call → call → call"
  int repeats = 0;
  double requests = 0;
  double total_ms = 0;
  double saved_ms = 0;  // sequential: sum over requests of (sum - max) of the calls on the path
  std::string parent;   // name of the span the repetitions hang under (first seen)
  std::string service;  // the service that makes the calls
  std::string shape;    // "serial" | "concurrent" | "capped" ("" for sequential / identical)
  int concurrency = 0;  // most calls in flight at once
  double path_ms = 0;
  double window_ms = 0;  // from the first call's start to the last one's end, summed over requests
  std::string target;    // the datastore or dependency called
  // Different parameter sets (statements), URLs (repeated calls: 0 = not known) or URL shapes apart
  // from ids (fan-outs) among the repeats.
  int distinct = 0;
  double wall_ms = 0;  // the time at least one of them was running (union of their intervals)
  // The source line that issued the repeated statement / call (code.* span attributes), if recorded.
  std::string code_filepath, code_function;
  int64_t code_lineno = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Pattern, kind, key, repeats, requests, total_ms, saved_ms,
                                                parent, service, shape, concurrency, path_ms, window_ms,
                                                target, distinct, code_filepath, code_function, code_lineno,
                                                wall_ms)

// Own-code time of one span (by service and name) on the critical path.
struct SelfTime {
  std::string name;
  double self_ms = 0;
  double count = 0;
  std::string service;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SelfTime, name, self_ms, count, service)

// Critical-path time of one service of a route's requests, by what it was spent on.
struct ServiceTime {
  std::string service;
  double database_ms = 0, cache_ms = 0, external_ms = 0, network_ms = 0, code_ms = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ServiceTime, service, database_ms, cache_ms, external_ms,
                                                network_ms, code_ms)

// A request that ended by a timeout (or a 504 / 408), and the span that consumed its budget: the
// deepest span under it that stayed on the critical path for most of its time.
struct Timeout {
  std::string service, span;              // the span that gave up
  std::string locus_service, locus_span;  // the one that consumed the budget
  double count = 0, ms = 0;
  std::string locus_statement;  // when that span is a database or cache call
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Timeout, service, span, locus_service, locus_span, count, ms,
                                                locus_statement)

struct Route {
  std::string service, route;
  double requests = 0, errors = 0;
  double request_ms = 0;  // sum of request durations
  Latency latency;
  std::vector<LatencyBin> latency_histogram;  // the requests' durations, at most 30 bars
  // The requests' critical paths, by what the time was spent on: they add up to request_ms.
  // network_ms: between a client span and the server span of the callee it reached.
  double database_ms = 0, cache_ms = 0, external_ms = 0, code_ms = 0, network_ms = 0;
  std::vector<SelfTime> self_time;  // own-code time on the path by span, largest first
  std::vector<Pattern> patterns;
  std::vector<ServiceTime> services;  // the same time, by the service it was spent in
  std::vector<Timeout> timeouts;
  // Requests whose root span never arrived (a stand-in for it, or an orphan, is their entry), and
  // those of them lying at an edge of the input's time span (within its longest complete request):
  // the judge tells a request cut by the window from a service that never emits a root by them.
  double rootless_requests = 0, edge_requests = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Route, service, route, requests, errors, request_ms, latency,
                                                latency_histogram, database_ms, cache_ms, external_ms,
                                                code_ms, network_ms, self_time, patterns, services, timeouts,
                                                rootless_requests, edge_requests)

struct Statement {
  std::string text;    // normalized ($n)
  std::string system;  // db.system
  bool cache = false;
  double count = 0, total_ms = 0;
  Latency latency;
  std::string service;  // the service that runs it (the first seen)
  double requests = 0;  // requests it ran in (0 in evidence older than 1.2: unknown)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Statement, text, system, cache, count, total_ms, latency,
                                                service, requests)

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
  double path_ms = 0;            // time on the calling requests' critical paths
  bool in_trace = false;    // a service whose own spans are in the traces (its time is attributed inside)
  std::string consumed_by;  // timeouts: the service/span that consumed the budget (most often)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(External, host, count, errors, timeouts, server_errors,
                                                total_ms, latency, requests, request_ms, calls, path_ms,
                                                in_trace, consumed_by)

// Calls from one service to another whose server spans are in the traces: the gap between the
// client span and the server span it reached is network (or a proxy or queue between them).
struct Link {
  std::string caller, callee;
  double calls = 0;
  double requests = 0, request_ms = 0;  // end-user requests that used the link, their duration
  double path_ms = 0;                   // the gaps' time on those requests' critical paths
  Latency gap;                          // per call, ms
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Link, caller, callee, calls, requests, request_ms, path_ms,
                                                gap)

struct InputFile {
  std::string name, format;
  double bytes = 0, spans = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(InputFile, name, format, bytes, spans)

// The process a service's spans came from (OTLP resource attributes), for a host probe watching it
// to be matched with (src/core/reconcile.cpp). The first seen per service.
struct ProcessInfo {
  std::string service, host, pid, container;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProcessInfo, service, host, pid, container)

struct Snapshot {
  std::vector<InputFile> files;
  double spans = 0, traces = 0, requests = 0;
  double orphans = 0;  // spans whose parent never arrived
  double skewed = 0;   // children reaching outside their parent's interval (clock skew), clipped
  double duplicates = 0;
  double untimed = 0;        // spans without a start or a duration: excluded from timing
  double shared_merged = 0;  // Zipkin client/server halves sharing one span id, joined
  double orphan_groups = 0;  // missing parents their orphans were grouped under
  // The window the spans cover, s: first request's start to last request's end (the OTLP receiver
  // judges with its listening window); 0 in evidence older than 1.2: unknown, judged as cumulative.
  double window_s = 0;
  // Requests chokepoint itself sent (its --http probe; user agent chokepoint/…): left out entirely.
  double own_requests = 0;
  // Distinct hosts the spans were recorded on (resource host.name, Jaeger hostname, Zipkin local
  // address), and the spans that name none: whether skewed spans can be clock skew between hosts.
  double hosts = 0, spans_without_host = 0;
  std::vector<Route> routes;
  std::vector<Statement> statements;
  std::vector<External> externals;
  std::vector<Link> links;
  std::vector<ProcessInfo> processes;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, files, spans, traces, requests, orphans, skewed,
                                                duplicates, untimed, shared_merged, orphan_groups, window_s,
                                                own_requests, hosts, spans_without_host, routes, statements,
                                                externals, links, processes)

}  // namespace cp::traces
