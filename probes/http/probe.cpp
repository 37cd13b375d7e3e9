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
  // Remember every redacted part (password, credential parameters) so no message can echo it.
  for (size_t i = 0, j = 0; i < spec.size() && j < shown.size();) {
    if (spec[i] == shown[j]) {
      ++i;
      ++j;
      continue;
    }
    size_t end = spec.find_first_of("@&#", i);
    secrets.push_back(spec.substr(i, end == std::string::npos ? std::string::npos : end - i));
    i = end == std::string::npos ? spec.size() : end;
    j += kRedacted.size();
  }
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
