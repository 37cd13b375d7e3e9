// Host and container collector: /proc and the cgroup file systems, read under a root directory
// (CHOKEPOINT_FS_ROOT, default "/") so tests can point it at recorded trees.
#pragma once

#include <string>

#include "probes/host/cgroup.hpp"
#include "probes/host/snapshot.hpp"
#include "probes/probe.hpp"

namespace cp::host {

Collected collect(const Target& target, const CollectContext& ctx);

// One reading of everything (used at the window's start and end). Exposed for tests on recorded trees.
struct Reading {
  std::map<std::string, double> cgroup, host, pressure_avg10;
  CpuLimit cpu_limit;
  std::optional<double> memory_limit_bytes;
  double memory_usage_bytes = 0;
};
struct Location {
  std::string root = "/";
  std::string target = "host";
  int pid = 0;
  CgroupDirs dirs;
};
// Resolves --pid / --cgroup / --host to cgroup directories; an empty message means success.
std::string locate(const std::string& root, const std::string& flag, const std::string& spec, Location& out);
Reading read_all(const Location& where);
// The readings' part of the snapshot: limits and gauges from `end`; counters from both when
// `windowed`, else `end` alone (cumulative since boot / the cgroup's creation).
void add_readings(Snapshot& snap, const Reading& start, const Reading& end, bool windowed);

}  // namespace cp::host
