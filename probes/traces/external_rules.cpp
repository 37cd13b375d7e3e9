// The traces rules on external calls: slow or failing dependencies, the same call repeated, calls
// capped by a concurrency limit, independent calls made one after another.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "probes/traces/rule_helpers.hpp"
#include "probes/traces/rules.hpp"
#include "util/format.hpp"

namespace cp::traces {

std::vector<Finding> slow_external_calls(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& e : s.externals) {
    // A callee whose spans are in the traces is not a dependency to wait on: its time is attributed
    // to what it did (its database, its code).
    if (e.in_trace) continue;
    double share = e.request_ms > 0 ? std::min(1.0, e.path_ms / e.request_ms) : 0;
    if (e.latency.p95 < p["min_p95_ms"] || share < p["min_request_share"]) continue;
    std::string url = e.calls.empty() ? e.host : e.calls.front().call;
    Finding f = p.make_finding("external/" + e.host);
    f.component = "external:" + e.host;
    f.severity = share >= p["critical_request_share"] ? Severity::critical
                 : share >= p["high_request_share"]   ? Severity::high
                                                      : Severity::medium;
    f.title = fmt::format("Slow dependency {}: p95 {}, {} of the time of the requests that call it", e.host,
                          human_ms(e.latency.p95), percent(share));
    f.detail = fmt::format(
        "{} calls (p50 {}, p99 {}), slowest endpoint {}; {} requests waited {} on it in all "
        "(on their critical paths).",
        human_count(e.count), human_ms(e.latency.p50), human_ms(e.latency.p99), url, human_count(e.requests),
        human_ms(e.path_ms));
    f.impact = {round_to(share, 4), "request_time"};
    f.evidence = {{"host", e.host},
                  {"url", url},
                  {"calls", e.count},
                  {"p50_ms", e.latency.p50},
                  {"p95_ms", e.latency.p95},
                  {"p99_ms", e.latency.p99},
                  {"max_ms", e.latency.max},
                  {"total_ms", e.total_ms},
                  {"path_ms", e.path_ms},
                  {"requests", e.requests},
                  {"request_share", round_to(share, 4)},
                  {"error_rate", e.count > 0 ? round_to(e.errors / e.count, 4) : 0.0},
                  {"source", "traces"}};
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> repeated_external_calls(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes)
    // The same call (one URL template) one after another: an N+1 over the network. Concurrent
    // calls are net.capped_concurrency's (when capped) or nobody's; different endpoints in a row
    // are net.sequential_external_calls'.
    for (const auto& [call, t] : totals(r, "repeated_call", p["min_repeats"], [](const Pattern& x) {
           return x.shape == "serial" && 2 * x.distinct <= x.repeats;
         })) {
      Impact impact = impact_of(r, t.path_ms, t.requests);
      if (!worth_reporting(impact, p)) continue;
      double reps = t.repeats / t.requests;
      bool capped = false;
      Finding f = p.make_finding(fmt::format("traces/{}/{}/{}", r.service, r.route, call));
      f.component = "traces:" + t.service;
      f.severity = share_severity(impact.share, p);
      f.title = capped ? fmt::format(
                             "{} {} fans out {:.0f} calls of {} at most {} at a time: the cap holds "
                             "{} per request ({} of it)",
                             r.service, r.route, reps, call, t.concurrency, human_ms(impact.per_request_ms),
                             percent(impact.share))
                       : fmt::format(
                             "{} repeats {:.0f} times per request, one after another, on {} {} ({} "
                             "per request, {} of it)",
                             call, reps, r.service, r.route, human_ms(impact.per_request_ms),
                             percent(impact.share));
      f.detail = capped ? fmt::format(
                              "In {} requests, under {} in {}: at most {} calls are in flight at once "
                              "for most of the window; the calls are concurrent, not an N+1.",
                              human_count(t.requests), t.parent, t.service, t.concurrency)
                        : fmt::format(
                              "In {} requests the call repeats one after another under {} in {}: "
                              "an N+1 over the network.",
                              human_count(t.requests), t.parent, t.service);
      f.impact = {round_to(impact.share, 4), "request_time"};
      f.evidence = {{"call", call},
                    {"host", t.target},
                    {"route", r.route},
                    {"service", t.service},
                    {"entry_service", r.service},
                    {"shape", t.shape},
                    {"concurrency", t.concurrency},
                    {"repetitions_per_request", round_to(reps, 2)},
                    {"requests", t.requests},
                    {"time_per_request_ms", round_to(impact.per_request_ms, 3)},
                    {"request_share", round_to(impact.share, 4)},
                    {"parent", t.parent}};
      add_code_location(f.evidence, t.first);
      f.remediation.summary =
          capped ? fmt::format(
                       "Raise the concurrency limit ({} now) if the dependency can take it, or batch "
                       "the calls into one request for many ids.",
                       t.concurrency)
                 : "Batch the calls into one (an endpoint taking many ids), run them concurrently, or cache "
                   "the answer.";
      out.push_back(std::move(f));
    }
  return out;
}

std::vector<Finding> capped_concurrency(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes)
    for (const auto& [key, t] :
         totals(r, "repeated_call", p["min_calls"], [](const Pattern& x) { return x.shape == "capped"; })) {
      Impact impact = impact_of(r, t.path_ms, t.requests);
      if (!worth_reporting(impact, p)) continue;
      double calls = t.repeats / t.requests;
      double rounds = std::ceil(calls / std::max(t.concurrency, 1));
      Finding f = p.make_finding(fmt::format("traces/{}/{}/capped/{}", r.service, r.route, t.target));
      f.component = "traces:" + t.service;
      f.severity = share_severity(impact.share, p);
      f.title = fmt::format(
          "{} {} calls {} {:.0f} times per request concurrently but at most {} at a time: {:.0f} rounds hold "
          "{} "
          "per request ({} of it)",
          r.service, r.route, t.target, calls, t.concurrency, rounds, human_ms(impact.per_request_ms),
          percent(impact.share));
      f.detail = fmt::format(
          "In {} requests, under {} in {}: the calls overlap (not an N+1, not a sequence), and the number in "
          "flight stays at {} for most of their window — a worker pool or concurrency limit. Their durations "
          "add up to {} per request; the request waits {} for them.",
          human_count(t.requests), t.parent, t.service, t.concurrency, human_ms(t.total_ms / t.requests),
          human_ms(impact.per_request_ms));
      f.impact = {round_to(impact.share, 4), "request_time"};
      f.evidence = {{"host", t.target},
                    {"route", r.route},
                    {"service", t.service},
                    {"entry_service", r.service},
                    {"calls", round_to(calls, 2)},
                    {"concurrency", t.concurrency},
                    {"requests", t.requests},
                    {"time_per_request_ms", round_to(impact.per_request_ms, 3)},
                    {"summed_ms_per_request", round_to(t.total_ms / t.requests, 3)},
                    {"request_share", round_to(impact.share, 4)},
                    {"parent", t.parent}};
      f.remediation.summary = fmt::format(
          "Raise the concurrency limit ({} now) if {} can take more, or fetch everything in one batched "
          "call.",
          t.concurrency, t.target);
      out.push_back(std::move(f));
    }
  return out;
}

std::vector<Finding> sequential_external_calls(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes) {
    // One finding per route: the sequences of its requests vary in order and length.
    PatternTotal all;
    std::string sequence;
    double most_requests = 0;
    for (const auto& [key, t] : totals(r, "sequential", p["min_calls"])) {
      all.requests += t.requests;
      all.total_ms += t.total_ms;
      all.repeats += t.repeats;
      all.saved_ms += t.saved_ms;
      if (t.requests > most_requests) {
        most_requests = t.requests;
        sequence = key;
        all.service = t.service;
      }
    }
    if (all.requests <= 0) continue;
    double saved = std::min(all.saved_ms / all.requests, mean_request_ms(r));
    if (saved < p["min_saved_ms"]) continue;
    double share = mean_request_ms(r) > 0 ? std::min(1.0, saved / mean_request_ms(r)) : 0;
    Finding f = p.make_finding(fmt::format("traces/{}/{}/sequential", r.service, r.route));
    f.component = "traces:" + (all.service.empty() ? r.service : all.service);
    f.severity = share >= p["critical_request_share"] ? Severity::critical
                 : share >= p["high_request_share"]   ? Severity::high
                                                      : Severity::medium;
    f.title = fmt::format(
        "{} {} makes {:.0f} calls to different endpoints one after another: if they are independent, running "
        "them concurrently saves about {} per request",
        r.service, r.route, all.repeats / all.requests, human_ms(saved));
    f.detail = fmt::format(
        "Most common sequence: {}. Seen in {} of {} requests; together {} per request on the critical path.",
        sequence, human_count(all.requests), human_count(r.requests), human_ms(all.total_ms / all.requests));
    f.impact = {round_to(share, 4), "request_time"};
    f.evidence = {
        {"sequence", sequence},
        {"route", r.route},
        {"service", all.service.empty() ? r.service : all.service},
        {"entry_service", r.service},
        {"calls", round_to(all.repeats / all.requests, 2)},
        {"requests", all.requests},
        {"time_per_request_ms", round_to(std::min(all.total_ms / all.requests, mean_request_ms(r)), 3)},
        {"saved_per_request_ms", round_to(saved, 3)}};
    f.remediation.summary =
        "If the calls do not depend on each other's answers, start them together and wait for all of them "
        "once (asyncio.gather, CompletableFuture.allOf, Promise.all, errgroup).";
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> external_errors(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& e : s.externals) {
    if (e.count < p["min_calls"]) continue;
    // A caller giving up on a callee in the traces: the callee kept working, and its time is
    // attributed on the critical path to what it did (its database, its code) — the caller's timeout
    // is the messenger, not the bottleneck.
    if (e.in_trace && !e.consumed_by.empty() && e.timeouts >= p["consumed_timeout_share"] * e.errors)
      continue;
    double rate = e.errors / e.count;
    if (rate < p["min_error_rate"]) continue;
    Finding f = p.make_finding("external-errors/" + e.host);
    f.component = "external:" + e.host;
    f.severity = rate >= p["critical_error_rate"] ? Severity::critical
                 : rate >= p["high_error_rate"]   ? Severity::high
                                                  : Severity::medium;
    f.title = fmt::format("{} fails {} of calls ({} errors, {} timeouts)", e.host, percent(rate),
                          human_count(e.errors), human_count(e.timeouts));
    f.detail = fmt::format("{} calls, {} answered 5xx, {} timed out.", human_count(e.count),
                           human_count(e.server_errors), human_count(e.timeouts));
    if (!e.consumed_by.empty()) {
      // The caller gave up; the time went to the deepest span that kept working under it.
      f.component = "traces:" + e.consumed_by.substr(0, e.consumed_by.find('/'));
      f.title += fmt::format("; the budget was consumed in {}", e.consumed_by);
      f.detail += fmt::format(
          " The timed-out calls' time was spent in {} (the deepest span on their critical "
          "path): that is where to look, not at the caller that gave up.",
          e.consumed_by);
    }
    f.impact = {round_to(rate, 4), "calls"};
    f.evidence = {{"host", e.host},
                  {"url", e.calls.empty() ? e.host : e.calls.front().call},
                  {"calls", e.count},
                  {"errors", e.errors},
                  {"error_rate", round_to(rate, 4)},
                  {"timeouts", e.timeouts},
                  {"server_errors", e.server_errors},
                  {"source", "traces"}};
    if (!e.consumed_by.empty()) f.evidence["consumed_by"] = e.consumed_by;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace cp::traces
