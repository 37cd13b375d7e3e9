#include "probes/http/probe.hpp"

#include "core/error.hpp"
#include "probes/http/collector.hpp"
#include "probes/http/rules.hpp"
#include "util/redact.hpp"

namespace cp {

namespace {

std::string describe(const std::string&, const std::string& spec, std::vector<std::string>& secrets) {
  if (spec.rfind("http://", 0) != 0 && spec.rfind("https://", 0) != 0)
    throw UsageError("--http: expected an http:// or https:// URL, not \"" + redact_url(spec) + "\"");
  std::string shown = redact_url(spec);
  // Every redacted part (password, parameter values) is scrubbed from any message too.
  for (auto& secret : url_secrets(spec)) secrets.push_back(std::move(secret));
  return shown;
}

Judgement judge(const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
  return http::judge(snapshot.get<http::Snapshot>(), target, settings);
}

}  // namespace

ProbeKind http_probe() {
  return {
      "http",
      {{"--http", "URL", "an external dependency endpoint, timed with repeated GETs"}},
      {Category::network},
      true,
      describe,
      http::collect,
      judge,
      {"net.slow_external_call", "net.connect_overhead", "net.external_errors"},
      {{"rate_per_s", 2}, {"max_requests", 120}, {"timeout_ms", 5000}, {"tls_verify", 1}},
  };
}

}  // namespace cp
