#include "probes/probe.hpp"

#include "core/catalog.hpp"

#include "probes/host/probe.hpp"
#include "probes/http/probe.hpp"
#include "probes/otlp/probe.hpp"
#include "probes/pgbouncer/probe.hpp"
#include "probes/postgres/probe.hpp"
#include "probes/prometheus/probe.hpp"
#include "probes/redis/probe.hpp"
#include "probes/traces/probe.hpp"

namespace cp {

// The one table of probes. Adding a probe = a folder under probes/ and one line here.
const std::vector<ProbeKind>& probe_kinds() {
  static const std::vector<ProbeKind> kinds = {
      postgres_probe(), pgbouncer_probe(), redis_probe(), http_probe(),
      traces_probe(),   otlp_probe(),      host_probe(),  prometheus_probe(),
  };
  return kinds;
}

// The rule catalogue: every probe's declared rules, in the order of the probes.
const std::vector<RuleSpec>& rule_catalog() {
  static const std::vector<RuleSpec> catalog = [] {
    std::vector<RuleSpec> all;
    for (const auto& k : probe_kinds())
      for (const auto& spec : k.rules.declared) all.push_back(spec);
    return all;
  }();
  return catalog;
}

const RuleSpec* find_rule(std::string_view id) {
  for (const auto& r : rule_catalog())
    if (r.id == id) return &r;
  return nullptr;
}

const GatedMetric* find_gated_metric(std::string_view name) {
  for (const auto& k : probe_kinds())
    for (const auto& g : k.rules.gated)
      if (g.name == name) return &g;
  return nullptr;
}

const ProbeKind* find_probe_kind(std::string_view name) {
  for (const auto& k : probe_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace cp
