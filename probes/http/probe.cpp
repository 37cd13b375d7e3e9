#include "probes/http/probe.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "probes/http/collector.hpp"
#include "probes/http/rules.hpp"
#include "util/redact.hpp"

namespace cp {

namespace {

std::string describe_http_target(const std::string&, const std::vector<std::string>& specs,
                                 std::vector<std::string>& secrets) {
  const std::string& spec = specs.front();
  if (spec.rfind("http://", 0) != 0 && spec.rfind("https://", 0) != 0)
    throw UsageError("--http: expected an http:// or https:// URL, not \"" + redact_url(spec) + "\"");
  std::string shown = redact_url(spec);
  // Every redacted part (password, parameter values) is scrubbed from any message too.
  for (auto& secret : url_secrets(spec)) secrets.push_back(std::move(secret));
  return shown;
}

// Each answered request's phases over the window: set-up (dns, tcp, tls) on fresh connections,
// time to first byte and total on all. Evidence saved before requests were timestamped has none.
std::vector<Series> phase_series(const http::Snapshot& snap) {
  bool timestamped =
      std::any_of(snap.samples.begin(), snap.samples.end(), [](const auto& s) { return s.t_s > 0; });
  if (snap.window_s <= 0 || !timestamped) return {};
  std::vector<Series> out;
  auto add = [&](const char* phase, double http::Sample::*ms, bool fresh_only) {
    Series series{"http.request_ms", "ms", {{"phase", phase}}, {}};
    for (const auto& s : snap.samples)
      if (s.status > 0 && !(fresh_only && s.reused)) series.points.emplace_back(s.t_s, s.*ms);
    bool measured =
        std::any_of(series.points.begin(), series.points.end(), [](const auto& p) { return p.second > 0; });
    if (measured) out.push_back(std::move(series));  // no TLS on plain http, no DNS for an address
  };
  add("total", &http::Sample::total_ms, false);
  add("ttfb", &http::Sample::ttfb_ms, false);
  add("dns", &http::Sample::dns_ms, true);
  add("tcp", &http::Sample::tcp_ms, true);
  add("tls", &http::Sample::tls_ms, true);
  return out;
}

}  // namespace

ProbeKind http_probe() {
  return {
      "http",
      {{"--http", "URL", "an external dependency endpoint, timed with repeated GETs"}},
      {Category::network},
      true,
      describe_http_target,
      http::collect,
      judge_with_series<http::Snapshot, http::judge, phase_series>,
      http::rule_declarations(),
      {{"rate_per_s", 2}, {"max_requests", 120}, {"timeout_ms", 5000}, {"tls_verify", 1}},
      {"samples"},
  };
}

}  // namespace cp
