#include "probes/traces/rules.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "probes/sources.hpp"
#include "probes/traces/breakdown.hpp"
#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::traces {

namespace {

double mean_request_ms(const Route& r) {
  return r.requests > 0 ? r.request_ms / r.requests : 0;
}

// Severity grows with the share of the request's time (thresholds of the rule).
Severity share_severity(double share, const RuleParams& p) {
  return share >= p["critical_request_share"] ? Severity::critical
         : share >= p["high_request_share"]   ? Severity::high
         : share >= p["medium_request_share"] ? Severity::medium
                                              : Severity::low;
}

// Patterns of one kind and key (and shape) with at least `min_repeats`, summed over requests.
struct PatternTotal {
  double requests = 0, total_ms = 0, repeats = 0, saved_ms = 0, path_ms = 0, window_ms = 0;
  int concurrency = 0;
  std::string parent, service, target, shape;
  const Pattern* first = nullptr;  // carries the code location, when the spans had one
};

using PatternFilter = bool (*)(const Pattern&);
bool any_pattern(const Pattern&) {
  return true;
}

std::map<std::string, PatternTotal> totals(const Route& r, const std::string& kind, double min_repeats,
                                           PatternFilter keep = any_pattern) {
  std::map<std::string, PatternTotal> out;
  for (const auto& p : r.patterns) {
    if (p.kind != kind || p.repeats < min_repeats || !keep(p)) continue;
    PatternTotal& t = out[p.key];
    if (t.requests == 0) {
      t.parent = p.parent;
      t.service = p.service;
      t.target = p.target;
      t.shape = p.shape;
      t.first = &p;
    }
    t.requests += p.requests;
    t.total_ms += p.total_ms;
    t.repeats += p.repeats * p.requests;
    t.saved_ms += p.saved_ms;
    t.path_ms += p.path_ms;
    t.window_ms += p.window_ms;
    t.concurrency = std::max(t.concurrency, p.concurrency);
  }
  return out;
}

// Time per request on the critical path, never more than the request lasted, and its share.
struct Impact {
  double per_request_ms = 0, share = 0;
};
Impact impact_of(const Route& r, double path_ms, double requests) {
  double mean = mean_request_ms(r);
  double per_request = requests > 0 ? std::min(path_ms / requests, mean) : 0;
  return {per_request, mean > 0 ? std::min(1.0, per_request / mean) : 0};
}

// Absolute or relative: worth reporting when it costs `min_total_ms` per request, or a large share of
// a faster request (above a small floor).
bool worth_reporting(const Impact& i, const RuleParams& p) {
  return i.per_request_ms >= p["min_total_ms"] ||
         (i.share >= p["min_request_share"] && i.per_request_ms >= p["min_share_ms"]);
}

bool is_cache_statement(const Snapshot& s, const std::string& text) {
  for (const auto& st : s.statements)
    if (st.text == text) return st.cache;
  return false;
}

// The literal and $1 forms of a statement are already one key (normalize_statement); the
// fingerprint makes the id stable across machines and whitespace.
// The source location the spans recorded (code.*), as evidence keys: where a SARIF annotation goes.
void add_code_location(json& evidence, const Pattern* p) {
  if (!p || (p->code_filepath.empty() && p->code_function.empty())) return;
  if (!p->code_filepath.empty()) evidence["code_filepath"] = p->code_filepath;
  if (p->code_lineno > 0) evidence["code_lineno"] = p->code_lineno;
  if (!p->code_function.empty()) evidence["code_function"] = p->code_function;
}

std::string statement_subject(const std::string& text) {
  auto fp = sql_fingerprint(text);
  return fp ? fmt::format("{:016x}", *fp) : text;
}

}  // namespace

std::vector<Finding> n_plus_one(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes) {
    // One after another only: a concurrent fan-out of the same statement is not an N+1; neither are
    // repeats of mostly the same parameters (that is a result to keep: db.repeated_identical_query).
    auto serial_lookups = [](const Pattern& x) {
      return x.shape == "serial" && (x.distinct == 0 || 2 * x.distinct > x.repeats);
    };
    for (const auto& [statement, t] : totals(r, "n_plus_one", p["min_calls_per_parent"], serial_lookups)) {
      Impact impact = impact_of(r, t.path_ms, t.requests);
      if (!worth_reporting(impact, p)) continue;
      double reps = t.repeats / t.requests;
      bool cache = is_cache_statement(s, statement);
      Finding f =
          p.make_finding(fmt::format("traces/{}/{}/{}", r.service, r.route, statement_subject(statement)));
      f.component = "traces:" + t.service;
      f.severity = share_severity(impact.share, p);
      f.title =
          cache ? fmt::format(
                      "Cache N+1 on {} {}: {} {} runs {:.0f} times per request, one after "
                      "another ({} of the request)",
                      r.service, r.route, t.target, one_line(statement, 60), reps, percent(impact.share))
                : fmt::format("N+1 queries on {} {}: {} runs {:.0f} times per request ({} of it)", r.service,
                              r.route, one_line(statement, 90), reps, human_ms(impact.per_request_ms));
      f.detail = fmt::format(
          "In {} of {} requests to {} the same {} runs {:.0f} times one after another under one parent span "
          "({}, in {}), {} per request on the critical path — {} of the request's mean {}.",
          human_count(t.requests), human_count(r.requests), r.route, cache ? "cache command" : "statement",
          reps, t.parent, t.service, human_ms(impact.per_request_ms), percent(impact.share),
          human_ms(mean_request_ms(r)));
      f.impact = {round_to(impact.share, 4), "request_time"};
      f.evidence = {{"query", one_line(statement, 2048)},
                    {"route", r.route},
                    {"service", t.service},
                    {"entry_service", r.service},
                    {"datastore", t.target},
                    {"parent", t.parent},
                    {"shape", t.shape},
                    {"repetitions_per_request", round_to(reps, 2)},
                    {"requests", t.requests},
                    {"time_per_request_ms", round_to(impact.per_request_ms, 3)},
                    {"request_share", round_to(impact.share, 4)},
                    {"mean_ms", round_to(t.total_ms / t.repeats, 3)},
                    {"total_ms", round_to(t.total_ms, 3)}};
      add_code_location(f.evidence, t.first);
      if (cache)
        f.remediation.summary =
            "Fetch the keys in one round trip (MGET, HMGET, a pipeline, or the client's multi-get) instead "
            "of one command per item.";
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::vector<Finding> repeated_identical_calls(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes) {
    for (const auto& [statement, t] : totals(r, "identical", p["min_repeats"])) {
      Impact saved = impact_of(r, t.saved_ms, t.requests);
      if (!worth_reporting(saved, p)) continue;
      double reps = t.repeats / t.requests;
      bool cache = is_cache_statement(s, statement);
      Finding f = p.make_finding(
          fmt::format("traces/{}/{}/identical/{}", r.service, r.route, statement_subject(statement)));
      f.component = "traces:" + t.service;
      f.severity = share_severity(saved.share, p);
      f.title = fmt::format(
          "{} {} repeats the identical {} {:.0f} times per request (same {}): keeping the first answer "
          "saves {} per request",
          r.service, r.route, cache ? "cache read" : "query", reps, cache ? "key" : "parameters",
          human_ms(saved.per_request_ms));
      f.detail = fmt::format("{} ({} in {}), in {} requests; {} of the request's critical path is repeats.",
                             one_line(statement, 120), t.target, t.service, human_count(t.requests),
                             percent(saved.share));
      f.impact = {round_to(saved.share, 4), "request_time"};
      f.evidence = {{"query", one_line(statement, 2048)},
                    {"route", r.route},
                    {"service", t.service},
                    {"entry_service", r.service},
                    {"datastore", t.target},
                    {"repetitions_per_request", round_to(reps, 2)},
                    {"requests", t.requests},
                    {"time_per_request_ms", round_to(impact_of(r, t.path_ms, t.requests).per_request_ms, 3)},
                    {"saved_per_request_ms", round_to(saved.per_request_ms, 3)},
                    {"request_share", round_to(saved.share, 4)}};
      add_code_location(f.evidence, t.first);
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::vector<Finding> slow_statements(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  double db_total = 0;
  for (const auto& st : s.statements)
    if (!st.cache) db_total += st.total_ms;
  for (const auto& st : s.statements) {
    if (st.cache || st.count <= 0) continue;
    double mean = st.total_ms / st.count;
    double share = db_total > 0 ? st.total_ms / db_total : 0;
    bool slow = mean >= p["min_mean_ms"] && st.count >= p["min_calls"];
    bool dominant = share >= p["dominant_db_time_share"] && mean >= p["min_mean_ms"];
    if (!slow && !dominant) continue;
    Finding f = p.make_finding("traces/" + statement_subject(st.text));
    std::string system = st.system.empty() ? std::string("db") : st.system;
    f.component = "traces:" + (st.service.empty() ? system : st.service);
    f.severity = slow && dominant ? Severity::high : Severity::medium;
    f.title = fmt::format("Slow query{}: {} takes {} per call, p95 {} ({} of database time in the traces)",
                          st.service.empty() ? "" : " in " + st.service, one_line(st.text, 90),
                          human_ms(mean), human_ms(st.latency.p95), percent(share));
    f.detail =
        fmt::format("{} calls in the traces, {} in total.", human_count(st.count), human_ms(st.total_ms));
    // Requests that timed out while this statement ran: it consumed their budget.
    double timeouts = 0;
    std::string gave_up;
    for (const auto& r : s.routes)
      for (const auto& t : r.timeouts)
        if (t.locus_statement == st.text) {
          timeouts += t.count;
          if (gave_up.empty()) gave_up = fmt::format("{} {} ({})", r.service, r.route, t.service);
        }
    if (timeouts >= p["high_timeouts"]) f.severity = std::max(f.severity, Severity::high);
    if (timeouts > 0) {
      f.title += fmt::format("; {} timed-out requests spent their budget here", human_count(timeouts));
      f.detail += fmt::format(
          " {} requests to {} timed out while this statement ran in {}: the caller gave up, the time "
          "was spent here.",
          human_count(timeouts), gave_up, st.service.empty() ? system : st.service);
    }
    f.impact = {round_to(share, 4), "db_time"};
    f.evidence = {{"query", one_line(st.text, 2048)},
                  {"calls", st.count},
                  {"mean_ms", round_to(mean, 3)},
                  {"total_ms", st.total_ms},
                  {"db_time_share", round_to(share, 4)},
                  {"p95_ms", st.latency.p95},
                  {"datastore", system}};
    if (!st.service.empty()) f.evidence["service"] = st.service;
    if (timeouts > 0) f.evidence["timeouts_consumed"] = timeouts;
    f.remediation.summary =
        "EXPLAIN (ANALYZE, BUFFERS) the query with representative parameters and fix the plan, or "
        "cache its result; run chokepoint with --postgres against that database for the plan.";
    out.push_back(std::move(f));
  }
  return out;
}

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

std::vector<Finding> self_time_hotspots(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes) {
    double attributed = attributed_ms(r);
    if (attributed <= 0 || r.self_time.empty()) continue;
    double code_share = r.code_ms / attributed;
    if (code_share < p["min_code_share"] || r.latency.p95 < p["min_p95_ms"]) continue;
    const SelfTime& top = r.self_time.front();
    double span_share = top.self_ms / attributed;
    std::string service = top.service.empty() ? r.service : top.service;
    Finding f = p.make_finding(fmt::format("traces/{}/{}/{}/{}", r.service, r.route, service, top.name));
    f.component = "traces:" + service;
    f.severity = code_share >= p["high_code_share"] ? Severity::high : Severity::medium;
    bool callee = service != r.service;
    f.title = callee ? fmt::format(
                           "{} {} spends {} of its time in code of the service it calls: {} {} ({} "
                           "per request)",
                           r.service, r.route, percent(code_share), service, top.name,
                           human_ms(top.self_ms / std::max(r.requests, 1.0)))
                     : fmt::format("{} {} spends {} of its time in its own code, most in {} ({} per request)",
                                   r.service, r.route, percent(code_share), top.name,
                                   human_ms(top.self_ms / std::max(r.requests, 1.0)));
    f.detail = fmt::format(
        "p95 {} over {} requests; on the critical path: database {}, cache {}, external calls {}, network "
        "{}, "
        "code {}. {} in {} alone holds {}.",
        human_ms(r.latency.p95), human_count(r.requests), percent(r.database_ms / attributed),
        percent(r.cache_ms / attributed), percent(r.external_ms / attributed),
        percent(r.network_ms / attributed), percent(code_share), top.name, service, percent(span_share));
    f.impact = {round_to(code_share, 4), "request_time"};
    f.evidence = {{"service", service},
                  {"entry_service", r.service},
                  {"route", r.route},
                  {"span", top.name},
                  {"span_self_ms_per_request", round_to(top.self_ms / std::max(r.requests, 1.0), 3)},
                  {"span_share", round_to(span_share, 4)},
                  {"code_share", round_to(code_share, 4)},
                  {"p95_ms", r.latency.p95},
                  {"requests", r.requests}};
    f.remediation.summary = fmt::format(
        "Profile {} in {} (a CPU profiler, or finer spans inside it): look for quadratic loops, per-item "
        "serialization, regex or template work, synchronous I/O or waits no span covers.",
        top.name, service);
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

// The traces rules, judged in this order: the five declared here, and four the postgres and http
// probes declare (their thresholds for traces are marked so there).
const std::vector<Rule<const Snapshot>>& rule_table() {
  static const std::vector<Rule<const Snapshot>> table = {
      declared_elsewhere<const Snapshot>("db.n_plus_one", n_plus_one),
      {{"db.repeated_identical_query",
        Category::database,
        "the same statement with the same parameters, or the same cache key, runs more than once within one "
        "request (traces): the request could keep the first answer",
        "Keep the answer for the request (memoize the lookup, a request-scoped cache such as DataLoader, or "
        "pass the loaded object down) instead of asking the database or cache again.",
        {
            {"min_repeats", 2, "calls", "identical calls in one request", sources::kChokepoint},
            {"min_total_ms", 50, "ms", "critical-path time of the repeats (all but the first) per request",
             sources::kSentryN1},
            {"min_request_share", 0.1, "ratio",
             "or this share of the request's critical path, above min_share_ms", sources::kRelative},
            {"min_share_ms", 2, "ms", "floor of the relative threshold", sources::kChokepoint},
            {"high_request_share", 0.2, "ratio", "share of the request from which it is high",
             sources::kChokepoint},
            {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical",
             sources::kChokepoint},
            {"medium_request_share", 0.05, "ratio", "share of the request from which it is medium, else low",
             sources::kChokepoint},
        },
        {"query", "route", "service", "entry_service", "datastore", "repetitions_per_request", "requests",
         "time_per_request_ms", "saved_per_request_ms", "request_share", "code_filepath", "code_lineno",
         "code_function"}},
       repeated_identical_calls},
      declared_elsewhere<const Snapshot>("db.slow_query", slow_statements),
      declared_elsewhere<const Snapshot>("net.slow_external_call", slow_external_calls),
      {{"net.repeated_external_call",
        Category::network,
        "the same external call (method + URL template) repeats many times within one request: an N+1 over "
        "the network, or a missing cache",
        "Batch the calls (one request for all ids), cache the answer for the request or longer, or fetch it "
        "once and pass it down.",
        {
            {"min_repeats", 10, "calls", "repetitions of one call in one request", sources::kSentryApi},
            {"min_total_ms", 300, "ms", "critical-path time the repetitions cost per request",
             sources::kSentryApi},
            {"min_request_share", 0.2, "ratio",
             "or this share of the request's critical path, above min_share_ms", sources::kRelative},
            {"min_share_ms", 20, "ms", "floor of the relative threshold", sources::kChokepoint},
            {"high_request_share", 0.2, "ratio", "share of the request from which it is high",
             sources::kChokepoint},
            {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical",
             sources::kChokepoint},
            {"medium_request_share", 0.05, "ratio", "share of the request from which it is medium, else low",
             sources::kChokepoint},
        },
        {"call", "host", "route", "service", "repetitions_per_request", "requests", "time_per_request_ms",
         "parent", "entry_service", "shape", "concurrency", "request_share", "code_filepath", "code_lineno",
         "code_function"}},
       repeated_external_calls},
      {{"net.sequential_external_calls",
        Category::network,
        "independent external calls (different endpoints, none overlapping) run one after another in a "
        "request and could run concurrently; the time saved is estimated as their sum minus the longest",
        "Issue the independent calls concurrently (async/await gather, futures, a parallel HTTP client) and "
        "wait for all of them once.",
        {
            {"min_calls", 3, "calls", "calls in a sequence", sources::kSentryHttp},
            {"min_saved_ms", 200, "ms", "time saved per request by running them concurrently",
             sources::kChokepoint},
            {"high_request_share", 0.2, "ratio", "share of the request saved from which it is high",
             sources::kChokepoint},
            {"critical_request_share", 0.5, "ratio", "share of the request saved from which it is critical",
             sources::kChokepoint},
        },
        {"sequence", "route", "service", "calls", "requests", "time_per_request_ms", "saved_per_request_ms",
         "entry_service"}},
       sequential_external_calls},
      {{"net.capped_concurrency",
        Category::network,
        "calls to one dependency within a request overlap, but no more than a small constant number are in "
        "flight for most of their window (a worker pool or concurrency limit): the request waits for the "
        "rounds, not for one call (traces)",
        "Raise the concurrency limit if the dependency can take it, or batch the calls into one request for "
        "many items.",
        {
            {"min_calls", 4, "calls", "calls to the dependency in one request", sources::kChokepoint},
            {"min_total_ms", 300, "ms", "critical-path time of the calls per request", sources::kSentryApi},
            {"min_request_share", 0.2, "ratio",
             "or this share of the request's critical path, above min_share_ms", sources::kRelative},
            {"min_share_ms", 20, "ms", "floor of the relative threshold", sources::kChokepoint},
            {"high_request_share", 0.2, "ratio", "share of the request from which it is high",
             sources::kChokepoint},
            {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical",
             sources::kChokepoint},
            {"medium_request_share", 0.05, "ratio", "share of the request from which it is medium, else low",
             sources::kChokepoint},
        },
        {"host", "route", "service", "entry_service", "calls", "concurrency", "requests",
         "time_per_request_ms", "summed_ms_per_request", "request_share", "parent"}},
       capped_concurrency},
      declared_elsewhere<const Snapshot>("net.external_errors", external_errors),
      {{"code.self_time_hotspot",
        Category::code,
        "a route's time is spent in the application's own code (span self-time: a span's duration minus its "
        "children's), not in its database, cache or external calls; the span holding it is named",
        "Profile that code path (a CPU profiler on the named span's function): look for O(n^2) loops, "
        "serialization of large payloads, regex or template work per item, synchronous I/O.",
        {
            {"min_code_share", 0.5, "ratio", "share of a route's attributed time in own code",
             sources::kChokepoint},
            {"min_p95_ms", 100, "ms", "route p95 latency worth optimizing", sources::kChokepoint},
            {"high_code_share", 0.7, "ratio", "share from which it is high", sources::kChokepoint},
        },
        {"service", "route", "span", "span_self_ms_per_request", "span_share", "code_share", "p95_ms",
         "requests", "entry_service"}},
       self_time_hotspots},
  };
  return table;
}

}  // namespace

RuleDeclarations rule_declarations() {
  return declarations(rule_table(), {{"traces.route_p95_ms", +1, 5}});
}

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  Judgement j;
  judge_rules(j, settings, rule_table(), s);
  add_notes(s, j);
  add_breakdowns(s, target, j);
  return j;
}

}  // namespace cp::traces
