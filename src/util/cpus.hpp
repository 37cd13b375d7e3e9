// How many CPUs this process may use: its affinity mask, capped by its cgroup's CPU quota
// (cgroup v2 cpu.max, on its own cgroup and every parent): a container limited to 1.5 CPUs on a
// 64-core node gets 2 threads, not 64.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace cp {

// cgroup v2 cpu.max ("QUOTA PERIOD", "max PERIOD"): the quota (nullopt: none) and the period, in µs.
std::pair<std::optional<double>, double> parse_cpu_max(const std::string& text);

// The CPUs this process may use (at least 1).
unsigned usable_cpus();

}  // namespace cp
