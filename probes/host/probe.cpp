#include "probes/host/probe.hpp"

#include <unistd.h>

#include "core/error.hpp"
#include "probes/host/collector.hpp"
#include "probes/host/rules.hpp"

namespace cp {

namespace {

std::string describe_host_target(const std::string& flag, const std::vector<std::string>& specs,
                                 std::vector<std::string>&) {
  const std::string& spec = specs.front();
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

// The run queue, and between consecutive samples the cgroup's throttled share of CFS periods and
// the CPU it used (cores), over the window.
std::vector<Series> cpu_series(const host::Snapshot& snap) {
  const auto& samples = snap.cpu_samples;
  if (snap.window_s <= 0 || samples.size() < 2) return {};
  Series running{"host.procs_running", "tasks", {}, {}};
  Series throttled{"cgroup.cpu_throttled_ratio", "ratio", {}, {}};
  bool process = host::process_alone(snap.pid, snap.cgroup_path);  // the root cgroup: the machine's
  Series usage{process ? "process.cpu_usage_cores" : "cgroup.cpu_usage_cores", "cores", {}, {}};
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& now = samples[i];
    running.points.emplace_back(now.t_s, now.procs_running);
    if (i == 0) continue;
    const auto& before = samples[i - 1];
    double periods = now.nr_periods - before.nr_periods, dt = now.t_s - before.t_s;
    if (periods > 0)
      throttled.points.emplace_back(now.t_s, (now.nr_throttled - before.nr_throttled) / periods);
    if (dt > 0 && process && now.process_cpu_ticks > 0 && snap.ticks_per_s > 0)
      usage.points.emplace_back(now.t_s,
                                (now.process_cpu_ticks - before.process_cpu_ticks) / snap.ticks_per_s / dt);
    else if (dt > 0 && !process && now.usage_usec > 0)
      usage.points.emplace_back(now.t_s, (now.usage_usec - before.usage_usec) / 1e6 / dt);
  }
  std::vector<Series> out;
  for (auto* s : {&running, &throttled, &usage})
    if (!s->points.empty()) out.push_back(std::move(*s));
  return out;
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
      describe_host_target,
      host::collect,
      judge_with_series<host::Snapshot, host::judge, cpu_series>,
      host::rule_declarations(),
      {{"sample_interval_ms", 250}},
      {"host_end"},
  };
}

}  // namespace cp
