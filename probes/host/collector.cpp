#include "probes/host/collector.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "probes/host/cgroup.hpp"

namespace cp::host {

namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::string> slurp(const std::string& root, const std::string& path) {
  std::string full = root == "/" ? path : root + path;
  std::ifstream in(full);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void add_psi(std::map<std::string, double>& totals, std::map<std::string, double>& avg10,
             const std::string& scope, const std::string& resource, const std::optional<std::string>& text) {
  if (!text) return;
  auto psi = parse_psi(*text);
  if (!psi) return;
  totals[resource + "_some_us"] = psi->some_total_us;
  totals[resource + "_full_us"] = psi->full_total_us;
  avg10[scope + "." + resource + ".some"] = psi->some_avg10;
  avg10[scope + "." + resource + ".full"] = psi->full_avg10;
}

// utime + stime of a process, in clock ticks.
std::optional<double> process_cpu_ticks(const std::string& root, const std::string& pid) {
  auto stat = slurp(root, "/proc/" + pid + "/stat");
  if (!stat) return std::nullopt;
  // Fields after the ")" of the command name: utime is the 12th, stime the 13th.
  auto close = stat->rfind(')');
  std::istringstream in(stat->substr(close == std::string::npos ? 0 : close + 2));
  std::vector<std::string> f;
  for (std::string x; in >> x;) f.push_back(x);
  if (f.size() <= 12) return std::nullopt;
  return std::atof(f[11].c_str()) + std::atof(f[12].c_str());
}

void read_cpu_v1(const Location& w, Reading& r) {
  const std::string& dir = w.dirs.cpu;
  auto quota = slurp(w.root, dir + "/cpu.cfs_quota_us");
  auto period = slurp(w.root, dir + "/cpu.cfs_period_us");
  if (quota && period) {
    double q = std::atof(quota->c_str());
    r.cpu_limit.period_us = std::atof(period->c_str());
    r.cpu_limit.state = q < 0 ? "no_limit" : "limited";
    if (q >= 0) r.cpu_limit.quota_us = q;
    r.cpu_limit.source = dir + "/cpu.cfs_quota_us";
  } else {
    r.cpu_limit.source = "cannot read " + dir + "/cpu.cfs_quota_us";
  }
  if (auto stat = slurp(w.root, dir + "/cpu.stat")) {
    auto kv = parse_flat_keyed(*stat);
    r.cgroup["nr_periods"] = kv["nr_periods"];
    r.cgroup["nr_throttled"] = kv["nr_throttled"];
    r.cgroup["throttled_usec"] = kv["throttled_time"] / 1000;  // v1 counts nanoseconds
  }
  std::string acct = w.dirs.cpuacct.empty() ? dir : w.dirs.cpuacct;
  if (w.dirs.cpuacct_same_group) {
    if (auto usage = slurp(w.root, acct + "/cpuacct.usage"))
      r.cgroup["usage_usec"] = std::atof(usage->c_str()) / 1000;
  } else if (auto procs = slurp(w.root, dir + "/cgroup.procs")) {
    // cpuacct is mounted apart and does not hold this cgroup: add up its tasks' CPU time.
    double ticks = 0;
    std::istringstream in(*procs);
    for (std::string pid; in >> pid;) ticks += process_cpu_ticks(w.root, pid).value_or(0);
    r.cgroup["usage_usec"] = ticks / static_cast<double>(sysconf(_SC_CLK_TCK)) * 1e6;
  }
}

void read_cpu_v2(const Location& w, Reading& r) {
  const std::string& dir = w.dirs.unified;
  if (auto max = slurp(w.root, dir + "/cpu.max")) {
    auto [quota, period] = parse_cpu_max(*max);
    r.cpu_limit.state = quota ? "limited" : "no_limit";
    r.cpu_limit.quota_us = quota;
    r.cpu_limit.period_us = period;
    r.cpu_limit.source = dir + "/cpu.max";
  } else {
    // Without the cpu controller enabled for this cgroup there is no cpu.max: a quota cannot apply
    // here, and throttling cannot be read.
    r.cpu_limit.source = "no cpu.max in " + dir + " (the cpu controller is not enabled for this cgroup)";
  }
  if (auto stat = slurp(w.root, dir + "/cpu.stat")) {
    auto kv = parse_flat_keyed(*stat);
    r.cgroup["usage_usec"] = kv["usage_usec"];
    if (kv.count("nr_periods")) {
      r.cgroup["nr_periods"] = kv["nr_periods"];
      r.cgroup["nr_throttled"] = kv["nr_throttled"];
      r.cgroup["throttled_usec"] = kv["throttled_usec"];
    }
  }
}

void read_memory(const Location& w, Reading& r) {
  bool v2 = w.dirs.version == "v2";
  const std::string& dir = w.dirs.memory;
  if (dir.empty()) return;
  if (v2) {
    if (auto max = slurp(w.root, dir + "/memory.max"))
      if (trim(*max) != "max") r.memory_limit_bytes = std::atof(max->c_str());
    if (auto cur = slurp(w.root, dir + "/memory.current")) r.memory_usage_bytes = std::atof(cur->c_str());
    if (auto ev = slurp(w.root, dir + "/memory.events"))
      r.cgroup["oom_kill"] = parse_flat_keyed(*ev)["oom_kill"];
  } else {
    if (auto lim = slurp(w.root, dir + "/memory.limit_in_bytes")) {
      double v = std::atof(lim->c_str());
      if (v < 9e18) r.memory_limit_bytes = v;  // v1 says "no limit" with a huge number
    }
    if (auto use = slurp(w.root, dir + "/memory.usage_in_bytes"))
      r.memory_usage_bytes = std::atof(use->c_str());
    if (auto oom = slurp(w.root, dir + "/memory.oom_control"))
      r.cgroup["oom_kill"] = parse_flat_keyed(*oom)["oom_kill"];
  }
}

void read_host(const Location& w, Reading& r) {
  if (auto stat = slurp(w.root, "/proc/stat"))
    for (auto& [k, v] : parse_proc_stat(*stat)) r.host[k] = v;
  for (const char* res : {"cpu", "memory", "io"})
    add_psi(r.host, r.pressure_avg10, "host", res, slurp(w.root, std::string("/proc/pressure/") + res));
  if (auto snmp = slurp(w.root, "/proc/net/snmp"))
    for (auto& [k, v] : parse_header_value_pairs(*snmp, "Tcp:")) r.host["Tcp" + k] = v;
  if (auto netstat = slurp(w.root, "/proc/net/netstat"))
    for (auto& [k, v] : parse_header_value_pairs(*netstat, "TcpExt:")) r.host["TcpExt" + k] = v;
  if (auto vm = slurp(w.root, "/proc/vmstat")) {
    auto kv = parse_flat_keyed(*vm);
    for (const char* k : {"pswpin", "pswpout", "oom_kill"}) r.host[std::string("vm_") + k] = kv[k];
  }
  if (auto mem = slurp(w.root, "/proc/meminfo")) {
    auto kv = parse_flat_keyed(*mem);  // "MemTotal: 123 kB" parses as "MemTotal:" -> 123
    r.host["mem_total_bytes"] = kv["MemTotal:"] * 1024;
    r.host["mem_available_bytes"] = kv["MemAvailable:"] * 1024;
  }
  if (w.pid > 0)
    if (auto ticks = process_cpu_ticks(w.root, std::to_string(w.pid))) r.host["process_cpu_ticks"] = *ticks;
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Runnable tasks besides chokepoint's reader: the thread reading the live /proc/stat is running as it
// reads, and counts itself (a recorded tree under CHOKEPOINT_FS_ROOT does not).
double procs_running(const std::string& root) {
  auto stat = slurp(root, "/proc/stat");
  if (!stat) return 0;
  double running = parse_proc_stat(*stat)["procs_running"];
  return root == "/" ? std::max(0.0, running - 1) : running;
}

std::string hostname() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : "localhost";
}

}  // namespace

std::string locate(const std::string& root, const std::string& flag, const std::string& spec, Location& out) {
  out.root = root;
  auto mountinfo = slurp(root, "/proc/self/mountinfo");
  auto mounts = mountinfo ? parse_mountinfo(*mountinfo) : std::vector<CgroupMount>{};
  std::vector<CgroupLine> lines;
  if (flag == "--pid") {
    out.pid = std::atoi(spec.c_str());
    out.target = "pid " + spec;
    auto text = slurp(root, "/proc/" + spec + "/cgroup");
    if (!text)
      return fmt::format("process {} not found (cannot read /proc/{}/cgroup): has it exited?", spec, spec);
    lines = parse_proc_cgroup(*text);
  } else if (flag == "--cgroup") {
    out.target = "cgroup " + spec;
    std::error_code ec;
    std::string full = root == "/" ? spec : root + spec;
    if (std::filesystem::is_directory(full, ec)) {
      auto found = lines_for_directory(spec, mounts);
      if (!found) return spec + " is not inside a mounted cgroup hierarchy (see /proc/self/mountinfo)";
      lines = *found;
    } else if (!spec.empty() && spec.front() == '/') {
      lines = lines_for_path(spec, mounts);
    } else {
      return spec + ": expected a cgroup directory (/sys/fs/cgroup/…) or a cgroup path (/kubepods/…)";
    }
  } else {
    out.target = "host";
    if (auto text = slurp(root, "/proc/self/cgroup")) lines = parse_proc_cgroup(*text);
  }
  if (mounts.empty()) return "";  // no cgroup file system: host readings only
  out.dirs = resolve_cgroup(lines, mounts);
  if (flag == "--cgroup" && out.dirs.version.empty()) return "no cgroup hierarchy holds " + spec;
  return "";
}

Reading read_all(const Location& w) {
  Reading r;
  if (w.dirs.version == "v2")
    read_cpu_v2(w, r);
  else if (!w.dirs.cpu.empty())
    read_cpu_v1(w, r);
  else
    r.cpu_limit.source = "no cpu cgroup controller is mounted";
  read_memory(w, r);
  // Pressure per cgroup (v2, or the 0:: line of a hybrid host); the root cgroup's is the host's.
  if (!w.dirs.unified.empty() && w.dirs.unified_path != "/") {
    for (const char* res : {"cpu", "memory", "io"})
      add_psi(r.cgroup, r.pressure_avg10, "cgroup", res,
              slurp(w.root, w.dirs.unified + "/" + res + ".pressure"));
    if (w.dirs.version == "hybrid" && !r.cgroup.count("usage_usec"))
      if (auto stat = slurp(w.root, w.dirs.unified + "/cpu.stat"))
        r.cgroup["usage_usec"] = parse_flat_keyed(*stat)["usage_usec"];
  }
  read_host(w, r);
  return r;
}

// The counters that move within the window: cheap enough to read at every sample.
CpuSample read_cpu_sample(const Location& w, double t_s) {
  Reading r;
  if (w.dirs.version == "v2")
    read_cpu_v2(w, r);
  else if (!w.dirs.cpu.empty())
    read_cpu_v1(w, r);
  CpuSample sample{t_s, procs_running(w.root), r.cgroup["nr_periods"], r.cgroup["nr_throttled"],
                   r.cgroup["usage_usec"]};
  if (process_alone(w.pid, w.dirs.path))
    sample.process_cpu_ticks = process_cpu_ticks(w.root, std::to_string(w.pid)).value_or(0);
  return sample;
}

void add_readings(Snapshot& snap, const Reading& start, const Reading& end, bool windowed) {
  auto cpus = end.host.find("cpus");
  snap.cpus = cpus == end.host.end() ? 0 : cpus->second;
  snap.cpu_limit = end.cpu_limit;
  if (windowed) {
    snap.cgroup_start = start.cgroup;
    snap.host_start = start.host;
  }
  snap.cgroup_end = end.cgroup;
  snap.host_end = end.host;
  snap.pressure_avg10 = end.pressure_avg10;
  snap.memory_limit_bytes = end.memory_limit_bytes;
  snap.memory_usage_bytes = end.memory_usage_bytes;
}

Collected collect(const Target& target, const CollectContext& ctx) {
  const char* env_root = std::getenv("CHOKEPOINT_FS_ROOT");
  std::string root = env_root && *env_root ? env_root : "/";
  Location where;
  if (auto err = locate(root, target.flag, target.spec(), where); !err.empty())
    return {ProbeStatus::error, err, {}};

  Snapshot snap;
  snap.target = where.target;
  snap.pid = where.pid;
  snap.hostname = hostname();
  snap.cgroup_path = where.dirs.path;
  snap.cgroup_version = where.dirs.version;
  snap.cpu_dir = where.dirs.cpu;
  snap.memory_dir = where.dirs.memory;
  snap.unified_dir = where.dirs.unified;
  snap.ticks_per_s = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (where.dirs.version.empty())
    snap.notes.push_back("no cgroup file system is mounted: host readings only");

  double cpu0 = thread_cpu_ms();
  Reading start = read_all(where);
  double cost = thread_cpu_ms() - cpu0;
  auto started = Clock::now();
  sample_through_window(ctx, interval_option(ctx, "host", "sample_interval_ms", 50), [&](double t_s) {
    snap.cpu_samples.push_back(read_cpu_sample(where, t_s));
    snap.run_queue.push_back(snap.cpu_samples.back().procs_running);
  });
  cpu0 = thread_cpu_ms();
  Reading end = read_all(where);
  cost += thread_cpu_ms() - cpu0;
  snap.window_s = ctx.measured_window(started);
  snap.read_cpu_ms = cost / 2;
  add_readings(snap, start, end, !ctx.cumulative());
  if (where.pid > 0 && !end.host.count("process_cpu_ticks"))
    snap.notes.push_back(fmt::format("process {} exited during the window", where.pid));
  return {ProbeStatus::ok, "", snap};
}

}  // namespace cp::host
