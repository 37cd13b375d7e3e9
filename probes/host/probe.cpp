#include "probes/host/probe.hpp"

#include <unistd.h>

#include "core/error.hpp"
#include "probes/host/collector.hpp"
#include "probes/host/rules.hpp"

namespace cp {

namespace {

std::string describe(const std::string& flag, const std::string& spec, std::vector<std::string>&) {
  if (flag == "--pid") {
    if (spec.empty() || spec.find_first_not_of("0123456789") != std::string::npos || spec == "0")
      throw UsageError("--pid: expected a process id, not \"" + spec + "\"");
    return "pid:" + spec;
  }
  if (flag == "--cgroup") {
    if (spec.empty() || spec.front() != '/')
      throw UsageError("--cgroup: expected an absolute cgroup directory or path, not \"" + spec + "\"");
    return "cgroup:" + spec;
  }
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return std::string("host:") + name;
}

Judgement judge(const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
  return host::judge(snapshot.get<host::Snapshot>(), target, settings);
}

}  // namespace

ProbeKind host_probe() {
  return {
      "host",
      {{"--pid", "PID", "a process: its cgroup (v1 or v2) and the host it runs on"},
       {"--cgroup", "PATH", "a cgroup directory (/sys/fs/cgroup/…) or cgroup path, and the host"},
       {"--host", "", "this host and the cgroup chokepoint runs in"}},
      {Category::infrastructure},
      true,
      describe,
      host::collect,
      judge,
      {"infra.cpu_throttling", "infra.cpu_saturation", "infra.memory_pressure", "infra.network_drops"},
      {{"sample_interval_ms", 250}},
  };
}

}  // namespace cp
