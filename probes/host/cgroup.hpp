// Pure parsing of the kernel's accounting files and cgroup resolution (v1, v2, hybrid). No I/O:
// the collector reads the files (under a configurable root) and hands the text here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/cpus.hpp"

namespace cp::host {

struct CgroupLine {  // one line of /proc/PID/cgroup: "ID:controllers:path"
  int id = 0;
  std::vector<std::string> controllers;  // empty for the v2 "0::" line
  std::string path;
};
std::vector<CgroupLine> parse_proc_cgroup(const std::string& text);

struct CgroupMount {        // a cgroup or cgroup2 line of /proc/self/mountinfo
  std::string root;         // the mount's root inside the hierarchy ("/" or a container's own path)
  std::string mount_point;  // where it is mounted
  bool v2 = false;
  std::vector<std::string> controllers;  // v1: from the super options (cpu, cpuacct, memory …)
};
std::vector<CgroupMount> parse_mountinfo(const std::string& text);

// Where a cgroup's files are, per controller; "" when that controller is not mounted.
struct CgroupDirs {
  std::string cpu, cpuacct, memory;  // v1 controller directories (or the v2 directory on pure v2)
  std::string unified;               // the v2 directory (pure v2, or the 0:: line of a hybrid host)
  std::string unified_path;          // its cgroup path ("/" = the root: host-wide)
  std::string path;                  // the cgroup path ("/" = root)
  bool cpuacct_same_group = true;  // v1: cpuacct holds the same cgroup as cpu (else usage is summed per task)
  std::string version;             // "v1", "v2" or "hybrid"
};
CgroupDirs resolve_cgroup(const std::vector<CgroupLine>& lines, const std::vector<CgroupMount>& mounts);

// `dir` (absolute, a cgroup directory under one of the mounts) as /proc/PID/cgroup lines.
std::optional<std::vector<CgroupLine>> lines_for_directory(const std::string& dir,
                                                           const std::vector<CgroupMount>& mounts);
// A cgroup path ("/kubepods/pod1/…") as /proc/PID/cgroup lines for every mounted hierarchy.
std::vector<CgroupLine> lines_for_path(const std::string& path, const std::vector<CgroupMount>& mounts);

// "key value" lines (cpu.stat, memory.events, memory.stat, /proc/vmstat).
std::map<std::string, double> parse_flat_keyed(const std::string& text);

struct Psi {                              // /proc/pressure/* and cgroup v2 *.pressure
  double some_avg10 = 0, full_avg10 = 0;  // percent
  double some_total_us = 0, full_total_us = 0;
};
std::optional<Psi> parse_psi(const std::string& text);

// /proc/stat: cpu_user … cpu_steal (USER_HZ ticks), cpus, procs_running, procs_blocked.
std::map<std::string, double> parse_proc_stat(const std::string& text);

// /proc/net/snmp and /proc/net/netstat: a header line and a value line per protocol.
std::map<std::string, double> parse_header_value_pairs(const std::string& text, const std::string& prefix);

// cpu.max ("max 100000" | "20000 100000") -> quota (nullopt = no limit) and period.
using cp::parse_cpu_max;

}  // namespace cp::host
