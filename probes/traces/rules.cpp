#include "probes/traces/rules.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "probes/request_cost.hpp"
#include "probes/slow_query.hpp"
#include "probes/sources.hpp"
#include "probes/traces/breakdown.hpp"
#include "probes/traces/rule_helpers.hpp"
#include "probes/traces/window_edges.hpp"
#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::traces {

namespace {

bool is_cache_statement(const Snapshot& s, const std::string& text) {
  for (const auto& st : s.statements)
    if (st.text == text) return st.cache;
  return false;
}

// The literal and $1 forms of a statement are already one key (normalize_statement); the
// fingerprint makes the id stable across machines and whitespace.
std::string statement_subject(const std::string& text) {
  auto fp = sql_fingerprint(text);
  return fp ? fmt::format("{:016x}", *fp) : text;
}

// An N+1 from traces, in words: serial ones cost latency, concurrent ones load and pool slots.
void describe_n_plus_one(Finding& f, const Route& r, const std::string& statement, const PatternTotal& t,
                         const Impact& impact, bool cache) {
  double reps = t.repeats / t.requests;
  f.title =
      cache ? fmt::format("Cache N+1 on {} {}: {} {} runs {:.0f} times per request, {} ({} of the request)",
                          r.service, r.route, t.target, one_line(statement, 60), reps, shape_words(t),
                          percent(impact.share))
            : fmt::format("N+1 queries on {} {}: {} runs {:.0f} times per request, {} ({} of it)", r.service,
                          r.route, one_line(statement, 90), reps, shape_words(t),
                          human_ms(impact.per_request_ms));
  f.detail = fmt::format(
      "In {} of {} requests to {} the same {} runs {:.0f} times ({}) under {} in {}, {} per request on the "
      "critical path — {} of the request's mean {}.",
      human_count(t.requests), human_count(r.requests), r.route, cache ? "cache command" : "statement", reps,
      shape_words(t), t.parent, t.service, human_ms(impact.per_request_ms), percent(impact.share),
      human_ms(mean_request_ms(r)));
  if (t.shape != "serial")
    f.detail += fmt::format(
        " The calls overlap, so they cost the request little latency, but the {} still runs {:.0f} queries "
        "instead of one, each holding a pooled connection: under load they cost throughput and pool slots.",
        cache ? "cache" : "database", reps);
  if (impact.per_request_ms < 1 || f.severity == Severity::low)
    f.detail += " Cheap here (small tables, few rows): the same loop grows with the data it iterates.";
}

// Requests that timed out while the statement ran: it consumed their budget (high from
// high_timeouts of them).
void add_consumed_timeouts(Finding& f, const Snapshot& s, const Statement& st, const RuleParams& p,
                           const std::string& ran_in) {
  double timeouts = 0;
  std::string gave_up;
  for (const auto& r : s.routes)
    for (const auto& t : r.timeouts)
      if (t.locus_statement == st.text) {
        timeouts += t.count;
        if (gave_up.empty()) gave_up = fmt::format("{} {} ({})", r.service, r.route, t.service);
      }
  if (timeouts >= p["high_timeouts"]) f.severity = std::max(f.severity, Severity::high);
  if (timeouts <= 0) return;
  f.title += fmt::format("; {} timed-out requests spent their budget here", human_count(timeouts));
  f.detail += fmt::format(
      " {} requests to {} timed out while this statement ran in {}: the caller gave up, the time "
      "was spent here.",
      human_count(timeouts), gave_up, ran_in);
  f.evidence["timeouts_consumed"] = timeouts;
}

}  // namespace

std::vector<Finding> n_plus_one(const Snapshot& s, const RuleParams& p) {
  std::vector<Finding> out;
  for (const auto& r : s.routes) {
    // Serial or concurrent; not repeats of mostly the same parameters (that is a result to keep:
    // db.repeated_identical_query). Parameters unknown (placeholders without values) count as different.
    auto lookups = [](const Pattern& x) { return x.distinct == 0 || 2 * x.distinct > x.repeats; };
    for (const auto& [statement, t] : totals(r, "n_plus_one", p["min_calls_per_parent"], lookups)) {
      Impact impact = impact_of(r, t.path_ms, t.requests);
      double reps = t.repeats / t.requests;
      if (!pattern_fires(impact, reps, p)) continue;
      bool cache = is_cache_statement(s, statement);
      Finding f =
          p.make_finding(fmt::format("traces/{}/{}/{}", r.service, r.route, statement_subject(statement)));
      f.component = "traces:" + t.service;
      f.severity = pattern_severity(impact, p);
      describe_n_plus_one(f, r, statement, t, impact, cache);
      f.impact = {round_to(impact.share, 4), "request_time"};
      f.evidence = {{"query", one_line(statement, 2048)},
                    {"route", r.route},
                    {"service", t.service},
                    {"entry_service", r.service},
                    {"datastore", t.target},
                    {"parent", t.parent},
                    {"shape", t.shape},
                    {"concurrency", t.concurrency},
                    {"repetitions_per_request", round_to(reps, 2)},
                    {"distinct_parameters", t.distinct},
                    {"requests", t.requests},
                    {"time_per_request_ms", round_to(impact.per_request_ms, 3)},
                    {"wall_ms_per_request", round_to(wall_per_request(r, t), 3)},
                    {"request_share", round_to(impact.share, 4)},
                    {"mean_ms", round_to(t.total_ms / t.repeats, 3)},
                    {"total_ms", round_to(t.total_ms, 3)}};
      add_code_location(f.evidence, t.first);
      if (cache)
        f.remediation.summary =
            "Fetch the keys in one round trip (MGET, HMGET, a pipeline, or the client's multi-get) instead "
            "of one command per item.";
      else if (t.shape != "serial")
        f.remediation.summary =
            "Batch the concurrent lookups into one query (WHERE id = ANY($1), $in, a DataLoader that "
            "collects "
            "the keys of one tick) instead of one query per item.";
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
      double reps = t.repeats / t.requests;
      if (!pattern_fires(saved, reps, p)) continue;
      bool cache = is_cache_statement(s, statement);
      Finding f = p.make_finding(
          fmt::format("traces/{}/{}/identical/{}", r.service, r.route, statement_subject(statement)));
      f.component = "traces:" + t.service;
      f.severity = pattern_severity(saved, p);
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
  // The same grading as pg_stat_statements' over the same window (probes/slow_query.hpp).
  double db_busy_ms_per_s = s.window_s > 0 ? db_total / s.window_s : 0;
  for (const auto& st : s.statements) {
    if (st.cache || st.count <= 0) continue;
    double mean = st.total_ms / st.count;
    double share = db_total > 0 ? st.total_ms / db_total : 0;
    SlowQueryGrade grade = grade_slow_query({st.count, st.total_ms, share, db_busy_ms_per_s, s.window_s}, p);
    // Fast but dominant: where to optimize first, told by the database's own statistics (info).
    if (!grade.severity || mean < p["min_mean_ms"]) continue;
    Finding f = p.make_finding("traces/" + statement_subject(st.text));
    std::string system = st.system.empty() ? std::string("db") : st.system;
    f.component = "traces:" + (st.service.empty() ? system : st.service);
    f.severity = *grade.severity;
    f.title = fmt::format("Slow query{}: {} takes {} per call, p95 {} ({} of database time in the traces)",
                          st.service.empty() ? "" : " in " + st.service, one_line(st.text, 90),
                          human_ms(mean), human_ms(st.latency.p95), percent(share));
    f.detail =
        fmt::format("{} calls in the traces, {} in total.", human_count(st.count), human_ms(st.total_ms));
    f.impact = {round_to(share, 4), "db_time"};
    f.evidence = {{"query", one_line(st.text, 2048)},
                  {"calls", st.count},
                  {"mean_ms", round_to(mean, 3)},
                  {"total_ms", st.total_ms},
                  {"db_time_share", round_to(share, 4)},
                  {"p95_ms", st.latency.p95},
                  {"datastore", system}};
    if (!st.service.empty()) f.evidence["service"] = st.service;
    if (st.requests > 0) f.evidence["requests"] = st.requests;
    if (s.window_s > 0) {
      f.evidence["busy_ms_per_s"] = round_to(st.total_ms / s.window_s, 2);
      f.evidence["window_s"] = round_to(s.window_s, 3);
    }
    add_consumed_timeouts(f, s, st, p, st.service.empty() ? system : st.service);
    f.remediation.summary =
        "EXPLAIN (ANALYZE, BUFFERS) the query with representative parameters and fix the plan, or "
        "cache its result; run chokepoint with --postgres against that database for the plan.";
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
        with_request_cost(
            {{"min_repeats", 2, "calls", "identical calls in one request", sources::kChokepoint}},
            {50, sources::kSentryN1, 0.1, 2}),
        {"query", "route", "service", "entry_service", "datastore", "repetitions_per_request", "requests",
         "time_per_request_ms", "saved_per_request_ms", "request_share", "code_filepath", "code_lineno",
         "code_function"}},
       repeated_identical_calls},
      declared_elsewhere<const Snapshot>("db.slow_query", slow_statements),
      declared_elsewhere<const Snapshot>("net.slow_external_call", slow_external_calls),
      {{"net.repeated_external_call",
        Category::network,
        "the same external call (one endpoint: method + URL template, an RPC method, a message destination) "
        "repeats many times within one request, serial or concurrent, differing only by id-like values (an "
        "N+1 API call) or not at all (a missing cache)",
        "Batch the calls (one request for all ids), cache the answer for the request or longer, or fetch it "
        "once and pass it down.",
        with_request_cost(
            {{"min_repeats", 5, "calls", "repetitions of one call in one request", sources::kSentryN1}},
            {300, sources::kSentryApi, 0.2, 20}),
        {"call", "host", "route", "service", "repetitions_per_request", "requests", "time_per_request_ms",
         "parent", "entry_service", "shape", "concurrency", "request_share", "code_filepath", "code_lineno",
         "code_function", "distinct_urls", "wall_ms_per_request"}},
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
        with_request_cost(
            {{"min_calls", 4, "calls", "calls to the dependency in one request", sources::kChokepoint}},
            {300, sources::kSentryApi, 0.2, 20}),
        {"host", "route", "service", "entry_service", "calls", "concurrency", "requests",
         "time_per_request_ms", "summed_ms_per_request", "request_share", "parent"}},
       capped_concurrency},
      declared_elsewhere<const Snapshot>("net.external_errors", external_errors),
      {{"net.link_latency",
        Category::network,
        "calls from one service to another whose server spans are in the traces spend a large share of the "
        "calling requests' critical path between the client span and the server span (the network, a proxy, "
        "a sidecar or a queue in front of the callee); the callee and the caller are named",
        "Look at what lies between the two services (a proxy, a service mesh sidecar, DNS, TLS handshakes, "
        "a saturated link or NAT, the callee's accept queue); compare with the other links of the same "
        "traces.",
        {
            {"min_calls", 5, "calls", "calls over the link in the traces", sources::kChokepoint},
            {"min_gap_p95_ms", 50, "ms", "p95 time between client and server span per call",
             sources::kChokepoint},
            {"min_request_share", 0.25, "ratio",
             "share of the calling requests' time spent in the link's gaps on the critical path",
             sources::kChokepoint},
            {"high_request_share", 0.3, "ratio", "share from which it is high", sources::kChokepoint},
            {"critical_request_share", 0.6, "ratio", "share from which it is critical", sources::kChokepoint},
        },
        {"caller", "callee", "calls", "requests", "gap_p50_ms", "gap_p95_ms", "gap_max_ms", "path_ms",
         "time_per_request_ms", "request_share", "other_links_gap_p95_ms", "other_links"}},
       slow_links},
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

namespace {

// What the spans measured of each statement, for the datastores' own statistics to be set beside
// (src/core/reconcile.cpp), and the request time their attribution divides.
void add_crosscheck(const Snapshot& s, Judgement& j) {
  for (const auto& st : s.statements) {
    ProcessIdentity who;
    if (auto it = std::find_if(s.processes.begin(), s.processes.end(),
                               [&](const ProcessInfo& p) { return p.service == st.service; });
        it != s.processes.end())
      who = {it->pid, it->host, it->container};
    j.crosscheck.statements.push_back({st.system, st.text, st.count, st.total_ms, false, who});
  }
  for (const auto& r : s.routes) j.crosscheck.attributed_ms += attributed_ms(r);
}

Judgement judge_routes(const Snapshot& s, const Target& target, const Settings& settings,
                       const CutRequests& cut, double min_rootless) {
  Judgement j;
  judge_rules(j, settings, rule_table(), s);
  add_notes(s, j);
  add_window_edge_notes(s, cut, min_rootless, j.notes);
  add_breakdowns(s, target, j);
  add_crosscheck(s, j);
  return j;
}

}  // namespace

// Requests cut by the window's edges form no route: judged without them (a copy only then).
Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  double min_rootless = min_rootless_requests(target.kind.empty() ? "traces" : target.kind, settings);
  bool any_cut = std::any_of(s.routes.begin(), s.routes.end(),
                             [&](const Route& r) { return cut_by_window(r, min_rootless); });
  if (!any_cut) return judge_routes(s, target, settings, {}, min_rootless);
  Snapshot kept = s;
  CutRequests cut = set_aside_cut_routes(kept, min_rootless);
  return judge_routes(kept, target, settings, cut, min_rootless);
}

}  // namespace cp::traces
