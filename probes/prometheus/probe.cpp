#include "probes/prometheus/probe.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "probes/prometheus/collector.hpp"
#include "probes/prometheus/queries.hpp"
#include "probes/prometheus/rules.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace cp {

namespace {

std::string describe_prometheus_target(const std::string&, const std::vector<std::string>& specs,
                                       std::vector<std::string>& secrets) {
  const std::string& spec = specs.front();
  if (spec.rfind("http://", 0) != 0 && spec.rfind("https://", 0) != 0)
    throw UsageError("--prometheus: expected the http:// or https:// base URL of a Prometheus-compatible "
                     "query API (with its path prefix, such as Mimir's /prometheus), not \"" +
                     redact_url(spec) + "\"");
  for (auto& secret : url_secrets(spec)) secrets.push_back(std::move(secret));
  return redact_url(spec);
}

void check_header(const std::string& value) {
  size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0 || value.find_first_of("\r\n") != std::string::npos)
    throw UsageError("--prometheus-header: expected 'Name: value' (e.g. 'X-Scope-OrgID: tenant-a')");
}

void check_match(const std::string& value) {
  (void)prom::matchers_of(value);
}

void check_at(const std::string& value) {
  if (!parse_time(value))
    throw UsageError(fmt::format(
        "--at: expected RFC 3339 (2026-12-08T02:00:00Z) or unix seconds (1765159200), not \"{}\"", value));
}

}  // namespace

ProbeKind prometheus_probe() {
  return {
      "prometheus",
      {{"--prometheus", "URL",
        "a Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics): every pod, node, "
        "database and cache its exporters report, judged as a fleet"},
       {"--prometheus-header", "'NAME: VALUE'", "a header on every --prometheus request (tenant, authorization)",
        false, true, true, check_header},
       {"--match", "SELECTOR", "scopes --prometheus to series matching it, e.g. '{namespace=\"shop\"}'", false,
        true, false, check_match},
       {"--at", "TIME", "judge the --prometheus window that ended then (RFC 3339 or unix seconds), not now",
        false, true, false, check_at}},
      {Category::database, Category::network, Category::infrastructure},
      true,
      describe_prometheus_target,
      prom::collect,
      [](const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
        return prom::judge(snapshot.get<prom::Snapshot>(), target, settings);
      },
      prom::rule_declarations(),
      {{"min_range_s", 300}, {"timeout_ms", 10000}},
      {"queries"},
  };
}

}  // namespace cp
