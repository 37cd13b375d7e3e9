#include "probes/probe.hpp"

#include "probes/host/probe.hpp"
#include "probes/http/probe.hpp"
#include "probes/otlp/probe.hpp"
#include "probes/pgbouncer/probe.hpp"
#include "probes/postgres/probe.hpp"
#include "probes/redis/probe.hpp"
#include "probes/traces/probe.hpp"

namespace cp {

// The one table of probes. Adding a probe = a folder under probes/ and one line here.
const std::vector<ProbeKind>& probe_kinds() {
  static const std::vector<ProbeKind> kinds = {
      postgres_probe(), pgbouncer_probe(), redis_probe(), http_probe(), traces_probe(), otlp_probe(), host_probe(),
  };
  return kinds;
}

const ProbeKind* find_probe_kind(std::string_view name) {
  for (const auto& k : probe_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace cp
