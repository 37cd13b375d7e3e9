// What the host collector read: counters at the window's start and end (judged as deltas), run
// queue samples, pressure averages. Counter names are normalized across cgroup v1 and v2.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/json_optional.hpp"

namespace cp::host {

// "No limit", "not measurable" and "0 % throttled" are three different answers.
struct CpuLimit {
  std::string state = "not_measurable";  // "limited" | "no_limit" | "not_measurable"
  std::optional<double> quota_us;
  double period_us = 100000;
  std::string source;  // the file it came from, or why it could not be read
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CpuLimit, state, quota_us, period_us, source)

// The cgroup's CPU counters and the host's run queue at one moment of the window.
struct CpuSample {
  double t_s = 0;  // since the window started
  double procs_running = 0;
  double nr_periods = 0, nr_throttled = 0, usage_usec = 0;  // cumulative cgroup counters (0: unreadable)
  // A --pid in the root cgroup (whose counters are the whole machine's): the process's own utime +
  // stime (clock ticks, every thread), 0 otherwise.
  double process_cpu_ticks = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CpuSample, t_s, procs_running, nr_periods, nr_throttled,
                                                usage_usec, process_cpu_ticks)

// A --pid whose cgroup is the root one (or none is mounted): the cgroup's CPU counters are the whole
// machine's, so the process's CPU usage is read from /proc/PID/stat instead.
inline bool process_alone(int pid, const std::string& cgroup_path) {
  return pid > 0 && (cgroup_path.empty() || cgroup_path == "/");
}

struct Snapshot {
  std::string target;  // "pid 4242", "cgroup /x", "host"
  int pid = 0;
  std::string hostname;
  std::string cgroup_path, cgroup_version;  // version: v1 | v2 | hybrid | "" (none found)
  std::string cpu_dir, memory_dir, unified_dir;
  double window_s = 0;
  double cpus = 0;
  CpuLimit cpu_limit;
  // Normalized cgroup counters: nr_periods, nr_throttled, throttled_usec, usage_usec, oom_kill,
  // cpu_some_us, memory_some_us, memory_full_us, io_some_us (pressure totals).
  std::map<std::string, double> cgroup_start, cgroup_end;
  std::optional<double> memory_limit_bytes;  // null: no limit
  double memory_usage_bytes = 0;
  // /proc: cpu_* ticks, procs_running, pressure totals, Tcp*/TcpExt* counters, vmstat
  // pswpin/pswpout/oom_kill; with --pid, process_cpu_ticks (utime + stime).
  std::map<std::string, double> host_start, host_end;
  std::map<std::string, double> pressure_avg10;  // "host.cpu.some", "cgroup.memory.full" … (percent)
  std::vector<double>
      run_queue;  // procs_running samples through the window (chokepoint's reader not counted)
  std::vector<CpuSample> cpu_samples;  // the same moments, with the cgroup's CPU counters
  double ticks_per_s = 100;
  double read_cpu_ms = 0;  // CPU time of one full reading (cost per sample)
  std::vector<std::string> notes;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, target, pid, hostname, cgroup_path, cgroup_version,
                                                cpu_dir, memory_dir, unified_dir, window_s, cpus, cpu_limit,
                                                cgroup_start, cgroup_end, memory_limit_bytes,
                                                memory_usage_bytes, host_start, host_end, pressure_avg10,
                                                run_queue, cpu_samples, ticks_per_s, read_cpu_ms, notes)

}  // namespace cp::host
