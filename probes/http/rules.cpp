#include "probes/http/rules.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "probes/sources.hpp"
#include "util/format.hpp"
#include "util/stats.hpp"

namespace cp::http {

namespace {

struct Measured {
  const Snapshot* snap = nullptr;
  Histogram all, reused, fresh, setup;  // ms; setup = DNS + TCP + TLS of fresh calls
  Histogram dns, tcp, tls, ttfb;
  double calls = 0, answered = 0, server_errors = 0, timeouts = 0, refused = 0, dns_errors = 0,
         tls_errors = 0, other_errors = 0;
};

Measured measure(const Snapshot& s) {
  Measured m;
  m.snap = &s;
  for (const auto& x : s.samples) {
    m.calls += 1;
    if (!x.error.empty()) {
      (x.error == "timeout"   ? m.timeouts
       : x.error == "refused" ? m.refused
       : x.error == "dns"     ? m.dns_errors
       : x.error == "tls"     ? m.tls_errors
                              : m.other_errors) += 1;
      continue;
    }
    m.answered += 1;
    if (x.status >= 500) m.server_errors += 1;
    m.all.add(x.total_ms);
    m.ttfb.add(x.ttfb_ms);
    if (x.reused) {
      m.reused.add(x.total_ms);
    } else {
      m.fresh.add(x.total_ms);
      m.setup.add(x.dns_ms + x.tcp_ms + x.tls_ms);
      m.dns.add(x.dns_ms);
      m.tcp.add(x.tcp_ms);
      m.tls.add(x.tls_ms);
    }
  }
  return m;
}

std::vector<Finding> slow_call(const Measured& m, const RuleParams& p) {
  const Snapshot& s = *m.snap;
  if (m.all.count() == 0) return {};
  // The dependency's own latency: over the reused connection when there is one.
  const Histogram& h = m.reused.count() ? m.reused : m.all;
  double p95 = h.percentile(95);
  if (p95 < p["min_p95_ms"]) return {};
  Finding f = p.make_finding("external/" + s.endpoint);
  f.component = "http:" + s.host;
  f.severity = p95 >= p["critical_p95_factor"] * p["min_p95_ms"] ? Severity::critical
               : p95 >= p["high_p95_factor"] * p["min_p95_ms"]   ? Severity::high
                                                                 : Severity::medium;
  f.title = fmt::format("Slow dependency {}: p95 {} per call (p50 {})", s.url, human_ms(p95),
                        human_ms(h.percentile(50)));
  f.detail = fmt::format(
      "{:.0f} GETs over {:.1f} s; time to first byte p50 {}: the server, not the network, takes "
      "the time.",
      m.calls, s.window_s, human_ms(m.ttfb.percentile(50)));
  f.impact = {std::nullopt, "request_time"};
  f.evidence = {
      {"host", s.host},
      {"url", s.url},
      {"calls", m.calls},
      {"p50_ms", round_to(h.percentile(50), 3)},
      {"p95_ms", round_to(p95, 3)},
      {"p99_ms", round_to(h.percentile(99), 3)},
      {"max_ms", round_to(h.max(), 3)},
      {"ttfb_ms", round_to(m.ttfb.percentile(50), 3)},
      {"connect_ms", round_to(m.setup.percentile(50), 3)},
      {"reused_p50_ms", round_to(m.reused.percentile(50), 3)},
      {"fresh_p50_ms", round_to(m.fresh.percentile(50), 3)},
      {"request_share", nullptr},
      {"error_rate", m.calls > 0 ? round_to((m.calls - m.answered + m.server_errors) / m.calls, 4) : 0.0},
      {"source", "http"}};
  return {f};
}

std::vector<Finding> connect_overhead(const Measured& m, const RuleParams& p) {
  const Snapshot& s = *m.snap;
  if (m.fresh.count() == 0 || m.setup.count() == 0) return {};
  double setup = m.setup.percentile(50), fresh = m.fresh.percentile(50);
  double share = fresh > 0 ? setup / fresh : 0;
  if (share < p["min_setup_share"] || setup < p["min_setup_ms"]) return {};
  Finding f = p.make_finding("connect/" + s.endpoint);
  f.component = "http:" + s.host;
  f.severity = share >= p["high_setup_share"] ? Severity::high : Severity::medium;
  f.title = fmt::format("Connection set-up is {} of a fresh call to {} ({} of {}): reuse connections",
                        percent(share), s.host, human_ms(setup), human_ms(fresh));
  f.detail =
      fmt::format("DNS {}, TCP {}, TLS {} per new connection; over a kept-alive connection a call takes {}.",
                  human_ms(m.dns.percentile(50)), human_ms(m.tcp.percentile(50)),
                  human_ms(m.tls.percentile(50)), human_ms(m.reused.percentile(50)));
  f.impact = {round_to(share, 4), "request_time"};
  f.evidence = {{"url", s.url},
                {"host", s.host},
                {"dns_ms", round_to(m.dns.percentile(50), 3)},
                {"tcp_ms", round_to(m.tcp.percentile(50), 3)},
                {"tls_ms", round_to(m.tls.percentile(50), 3)},
                {"setup_ms", round_to(setup, 3)},
                {"setup_share", round_to(share, 4)},
                {"fresh_p50_ms", round_to(fresh, 3)},
                {"reused_p50_ms", round_to(m.reused.percentile(50), 3)},
                {"calls", m.calls}};
  f.remediation.summary =
      "Keep connections alive: one HTTP client (connection pool) per process, reused across "
      "requests; HTTP/2; a DNS cache; TLS session resumption.";
  return {f};
}

std::vector<Finding> errors(const Measured& m, const RuleParams& p) {
  const Snapshot& s = *m.snap;
  double failed = m.calls - m.answered + m.server_errors;
  if (m.calls < p["min_calls"] || failed / m.calls < p["min_error_rate"]) return {};
  double rate = failed / m.calls;
  Finding f = p.make_finding("external-errors/" + s.endpoint);
  f.component = "http:" + s.host;
  f.severity = rate >= p["critical_error_rate"] ? Severity::critical
               : rate >= p["high_error_rate"]   ? Severity::high
                                                : Severity::medium;
  std::vector<std::string> kinds;
  if (m.server_errors) kinds.push_back(fmt::format("{:.0f} answered 5xx", m.server_errors));
  if (m.timeouts) kinds.push_back(fmt::format("{:.0f} timed out", m.timeouts));
  if (m.refused) kinds.push_back(fmt::format("{:.0f} refused", m.refused));
  if (m.dns_errors) kinds.push_back(fmt::format("{:.0f} failed DNS", m.dns_errors));
  if (m.tls_errors + m.other_errors)
    kinds.push_back(fmt::format("{:.0f} other connection errors", m.tls_errors + m.other_errors));
  f.title = fmt::format("{} fails {} of calls ({})", s.url, percent(rate), fmt::join(kinds, ", "));
  f.detail = fmt::format("{:.0f} calls over {:.1f} s.", m.calls, s.window_s);
  f.impact = {round_to(rate, 4), "calls"};
  f.evidence = {{"host", s.host},
                {"url", s.url},
                {"calls", m.calls},
                {"errors", failed},
                {"error_rate", round_to(rate, 4)},
                {"timeouts", m.timeouts},
                {"server_errors", m.server_errors},
                {"connection_errors", m.refused + m.tls_errors + m.other_errors},
                {"dns_errors", m.dns_errors},
                {"source", "http"}};
  return {f};
}

// The HTTP rules: declared here (the traces probe judges two of them too), judged in this order.
const std::vector<Rule<const Measured>>& rule_table() {
  static const std::vector<Rule<const Measured>> table = {
      {{"net.slow_external_call",
        Category::network,
        "an external dependency (host) is slow at p95 and takes a large share of the time of the requests "
        "that call it; only the slow dependency is named",
        "Take the call off the request path (cache the answer, call it asynchronously, prefetch), give it a "
        "tight timeout with a fallback, or ask its owner for a faster endpoint.",
        {
            {"min_p95_ms", 200, "ms", "p95 latency of a slow dependency", sources::kChokepoint},
            {"min_request_share", 0.1, "ratio", "share of the calling requests' time spent waiting on it",
             sources::kChokepoint},
            {"high_request_share", 0.3, "ratio", "share from which the finding is high",
             sources::kChokepoint},
            {"critical_request_share", 0.6, "ratio", "share from which it is critical", sources::kChokepoint},
            {"high_p95_factor", 2, "x",
             "p95 / min_p95_ms from which it is high (probed calls: no request share)", sources::kChokepoint},
            {"critical_p95_factor", 4, "x", "p95 / min_p95_ms from which it is critical (probed calls)",
             sources::kChokepoint},
        },
        {"host", "url", "calls", "p50_ms", "p95_ms", "p99_ms", "max_ms", "total_ms", "requests",
         "request_share", "error_rate", "source", "connect_ms", "ttfb_ms", "reused_p50_ms", "fresh_p50_ms",
         "path_ms"}},
       slow_call},
      {{"net.connect_overhead",
        Category::network,
        "DNS, TCP and TLS set-up dominate calls to a dependency: fresh connections are much slower than "
        "reused ones and set-up is most of their time",
        "Reuse connections: keep-alive / a connection pool in the HTTP client (one client per process, not "
        "per request), HTTP/2; cache DNS; resume TLS sessions.",
        {
            {"min_setup_share", 0.5, "ratio", "DNS + TCP + TLS time / total time of a fresh call",
             sources::kChokepoint},
            {"min_setup_ms", 20, "ms", "set-up time worth saving per call", sources::kChokepoint},
            {"high_setup_share", 0.8, "ratio", "set-up share of a fresh call from which it is high",
             sources::kChokepoint},
        },
        {"url", "host", "dns_ms", "tcp_ms", "tls_ms", "setup_ms", "setup_share", "fresh_p50_ms",
         "reused_p50_ms", "calls"}},
       connect_overhead},
      {{"net.external_errors",
        Category::network,
        "an external dependency answers with errors (5xx, connection errors) or timeouts",
        "Add a timeout, retries with backoff for idempotent calls and a circuit breaker with a fallback, so "
        "a failing dependency costs milliseconds, not the whole request.",
        {
            {"min_error_rate", 0.05, "ratio", "failed calls / calls", sources::kChokepoint},
            {"min_calls", 10, "calls", "calls before a rate counts", sources::kChokepoint},
            {"high_error_rate", 0.2, "ratio", "failed calls / calls from which it is high",
             sources::kChokepoint},
            {"critical_error_rate", 0.5, "ratio", "failed calls / calls from which it is critical",
             sources::kChokepoint},
            {"consumed_timeout_share", 0.5, "ratio",
             "share of errors that are timeouts of a caller whose callee the traces show working: the callee "
             "is not blamed (traces)",
             sources::kChokepoint},
        },
        {"host", "url", "calls", "errors", "error_rate", "timeouts", "server_errors", "connection_errors",
         "dns_errors", "source", "consumed_by", "requests"}},
       errors},
  };
  return table;
}

}  // namespace

RuleDeclarations rule_declarations() {
  return declarations(rule_table(), {
                                        {"http.p95_ms", +1, 5},
                                        {"http.p50_ms", +1, 5},
                                        {"http.error_ratio", +1, 0.02},
                                    });
}

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  Judgement j;
  Measured m = measure(s);
  judge_rules(j, settings, rule_table(), m);
  std::map<std::string, std::string> labels = {{"target", target.name}};
  if (m.all.count()) {
    j.metrics.push_back({"http.p50_ms", round_to(m.all.percentile(50), 3), "ms", labels});
    j.metrics.push_back({"http.p95_ms", round_to(m.all.percentile(95), 3), "ms", labels});
  }
  j.metrics.push_back({"http.calls", m.calls, "calls", labels});
  j.metrics.push_back({"http.error_ratio",
                       m.calls ? round_to((m.calls - m.answered + m.server_errors) / m.calls, 4) : 0, "ratio",
                       labels});
  // Too few calls for the rules to judge is not "healthy": the verdict says how little was measured.
  double needed = settings.params("net.external_errors")["min_calls"];
  if (needed > 0 && m.calls < needed) {
    j.measured = m.calls / needed;
    j.too_little = fmt::format("{:.0f} of the {:.0f} calls its rules need", m.calls, needed);
    j.notes.push_back("too few calls to judge: " + j.too_little);
  }
  j.notes.push_back(
      fmt::format("{:.0f} GETs at {:.1f}/s (capped at 10/s, 300 per run), timeout {:.0f} ms{}; "
                  "reused connection p50 {}, fresh p50 {}",
                  m.calls, s.rate_per_s, s.timeout_ms, s.tls_verify ? "" : ", TLS not verified",
                  human_ms(m.reused.percentile(50)), human_ms(m.fresh.percentile(50))));
  return j;
}

}  // namespace cp::http
