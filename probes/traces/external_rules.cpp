// The traces rules on external calls: slow or failing dependencies, the same call repeated, calls
// capped by a concurrency limit, independent calls made one after another.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "probes/traces/rule_helpers.hpp"
#include "probes/traces/rules.hpp"
#include "util/format.hpp"
#include "util/stats.hpp"

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
    f.severity = share_severity_from_medium(share, p);
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

namespace {

// The words of a repeated call: an N+1 API call (the URLs differ by ids), the same call again
// (identical URLs: a missing cache), or a call whose arguments are not in the span.
std::string repeat_kind(const PatternTotal& t) {
  return t.distinct == 1  ? "the identical call"
         : t.distinct > 1 ? "an N+1 API call (only ids differ)"
                          : "the same call";
}

}  // namespace

std::vector<Finding> repeated_external_calls(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes)
    // One endpoint again and again, serial or concurrent. Calls to one dependency that differ by more
    // than ids are a fan-out (net.capped_concurrency when capped); different endpoints in a row are
    // net.sequential_external_calls'.
    for (const auto& [call, t] : totals(r, "repeated_call", p["min_repeats"])) {
      Impact impact = impact_of(r, t.path_ms, t.requests);
      double reps = t.repeats / t.requests;
      if (!pattern_fires(impact, reps, p)) continue;
      Finding f = p.make_finding(fmt::format("traces/{}/{}/{}", r.service, r.route, call));
      f.component = "traces:" + t.service;
      f.severity = pattern_severity(impact, p);
      f.title =
          fmt::format("{} repeats {:.0f} times per request, {}, on {} {}: {} ({} per request, {} of it)",
                      call, reps, shape_words(t), r.service, r.route, repeat_kind(t),
                      human_ms(impact.per_request_ms), percent(impact.share));
      f.detail = fmt::format("In {} requests, under {} in {}, {} calls {} {:.0f} times per request ({}).",
                             human_count(t.requests), t.parent, t.service, t.service, t.target, reps,
                             repeat_kind(t));
      if (t.shape != "serial")
        f.detail += " The calls overlap: they cost the dependency (and connection slots) more than latency.";
      f.impact = {round_to(impact.share, 4), "request_time"};
      f.evidence = {{"call", call},
                    {"host", t.target},
                    {"route", r.route},
                    {"service", t.service},
                    {"entry_service", r.service},
                    {"shape", t.shape},
                    {"concurrency", t.concurrency},
                    {"repetitions_per_request", round_to(reps, 2)},
                    {"distinct_urls", t.distinct},
                    {"requests", t.requests},
                    {"time_per_request_ms", round_to(impact.per_request_ms, 3)},
                    {"wall_ms_per_request", round_to(wall_per_request(r, t), 3)},
                    {"request_share", round_to(impact.share, 4)},
                    {"parent", t.parent}};
      add_code_location(f.evidence, t.first);
      f.remediation.summary =
          t.distinct == 1
              ? "The same call with the same arguments: keep its answer for the request (or cache it), "
                "or fetch it once and pass it down."
              : "Batch the calls into one (an endpoint taking many ids, a batch publish), or cache "
                "the answers; run them concurrently only if the dependency can take the load.";
      out.push_back(std::move(f));
    }
  return out;
}

std::vector<Finding> capped_concurrency(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  // A fan-out of one endpoint's calls that differ only by ids is an N+1 API call
  // (net.repeated_external_call): the fix is a batch, not more concurrency.
  auto capped_fan_out = [](const Pattern& x) { return x.shape == "capped" && x.distinct != 1; };
  for (const auto& r : s.routes)
    for (const auto& [key, t] : totals(r, "fan_out", p["min_calls"], capped_fan_out)) {
      Impact impact = impact_of(r, t.path_ms, t.requests);
      double calls = t.repeats / t.requests;
      if (!pattern_fires(impact, calls, p)) continue;
      double rounds = std::ceil(calls / std::max(t.concurrency, 1));
      Finding f = p.make_finding(fmt::format("traces/{}/{}/capped/{}", r.service, r.route, t.target));
      f.component = "traces:" + t.service;
      f.severity = pattern_severity(impact, p);
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
    f.severity = share_severity_from_medium(share, p);
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

// Network inside the trace: the time between a client span and the server span it reached, on the
// calling requests' critical paths, link by link (caller -> callee), compared with the other links.
std::vector<Finding> slow_links(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& l : s.links) {
    double share = l.request_ms > 0 ? std::min(1.0, l.path_ms / l.request_ms) : 0;
    if (l.calls < p["min_calls"] || l.gap.p95 < p["min_gap_p95_ms"] || share < p["min_request_share"])
      continue;
    Histogram others;  // the other links' p95 gaps
    for (const auto& o : s.links)
      if (&o != &l) others.add(o.gap.p95);
    double typical = others.percentile(50);
    Finding f = p.make_finding(fmt::format("traces/link/{}/{}", l.caller, l.callee));
    f.component = "traces:" + l.callee;
    f.severity = share_severity_from_medium(share, p);
    double per_request = l.requests > 0 ? l.path_ms / l.requests : 0;
    f.title = fmt::format(
        "Slow link {} -> {}: p95 {} between the call and its arrival, {} of the calling requests' time",
        l.caller, l.callee, human_ms(l.gap.p95), percent(share));
    f.detail = fmt::format(
        "{} calls from {} to {}: the client span outlasts the server span by p50 {}, p95 {} (max {}); "
        "{} per request on the critical path in {} requests. {}",
        human_count(l.calls), l.caller, l.callee, human_ms(l.gap.p50), human_ms(l.gap.p95),
        human_ms(l.gap.max), human_ms(per_request), human_count(l.requests),
        others.count() == 0 ? std::string("No other link in these traces to compare with.")
                            : fmt::format("The other {} links of these traces: median p95 gap {}.",
                                          others.count(), human_ms(typical)));
    f.impact = {round_to(share, 4), "request_time"};
    f.evidence = {{"caller", l.caller},
                  {"callee", l.callee},
                  {"calls", l.calls},
                  {"requests", l.requests},
                  {"gap_p50_ms", l.gap.p50},
                  {"gap_p95_ms", l.gap.p95},
                  {"gap_max_ms", l.gap.max},
                  {"path_ms", l.path_ms},
                  {"time_per_request_ms", round_to(per_request, 3)},
                  {"request_share", round_to(share, 4)},
                  {"other_links_gap_p95_ms", round_to(typical, 3)},
                  {"other_links", static_cast<double>(others.count())}};
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
                  {"requests", e.requests},
                  {"source", "traces"}};
    if (!e.consumed_by.empty()) f.evidence["consumed_by"] = e.consumed_by;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace cp::traces
