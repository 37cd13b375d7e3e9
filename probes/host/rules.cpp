#include "probes/host/rules.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "probes/sources.hpp"
#include "util/format.hpp"

namespace cp::host {

namespace {

double delta(const std::map<std::string, double>& start, const std::map<std::string, double>& end,
             const std::string& key) {
  auto e = end.find(key);
  if (e == end.end()) return 0;
  auto s = start.find(key);
  return std::max(0.0, e->second - (s == start.end() ? 0 : s->second));
}
double cg(const Snapshot& s, const std::string& k) {
  return delta(s.cgroup_start, s.cgroup_end, k);
}
double hd(const Snapshot& s, const std::string& k) {
  return delta(s.host_start, s.host_end, k);
}

double avg10(const Snapshot& s, const std::string& key) {
  auto it = s.pressure_avg10.find(key);
  return it == s.pressure_avg10.end() ? 0 : it->second;
}

std::string scope_name(const Snapshot& s) {
  return s.cgroup_path.empty() || s.cgroup_path == "/" ? "host:" + s.hostname : "cgroup:" + s.cgroup_path;
}

}  // namespace

std::optional<double> cpu_usage_cores(const Snapshot& s) {
  if (s.window_s <= 0) return std::nullopt;
  if (process_alone(s.pid, s.cgroup_path)) {
    if (!s.host_end.count("process_cpu_ticks") || s.ticks_per_s <= 0) return std::nullopt;
    return hd(s, "process_cpu_ticks") / s.ticks_per_s / s.window_s;
  }
  if (!s.cgroup_end.count("usage_usec")) return std::nullopt;
  return cg(s, "usage_usec") / 1e6 / s.window_s;
}

std::string cpu_limit_note(const Snapshot& s) {
  const CpuLimit& l = s.cpu_limit;
  if (l.state == "no_limit") return fmt::format("CPU limit: no limit ({}), so no CFS throttling", l.source);
  if (l.state == "not_measurable") return "CPU throttling: not measurable — " + l.source;
  double periods = cg(s, "nr_periods");
  if (periods <= 0)
    return fmt::format("CPU limit {:.2f} cores; 0 periods in the window (the cgroup did not run)",
                       *l.quota_us / l.period_us);
  return fmt::format("CPU limit {:.2f} cores; {} of periods throttled", *l.quota_us / l.period_us,
                     percent(cg(s, "nr_throttled") / periods));
}

std::vector<Finding> cpu_throttling(const Snapshot& s, const RuleParams& p) {
  if (s.cpu_limit.state != "limited" || !s.cpu_limit.quota_us) return {};
  double periods = cg(s, "nr_periods"), throttled = cg(s, "nr_throttled");
  if (periods <= 0) return {};
  double ratio = throttled / periods;
  if (ratio < p["min_throttled_ratio"]) return {};
  double limit = *s.cpu_limit.quota_us / s.cpu_limit.period_us;
  std::optional<double> usage, throttled_per_s;
  if (s.window_s > 0) {
    usage = cpu_usage_cores(s);
    throttled_per_s = cg(s, "throttled_usec") / 1e6 / s.window_s;
  }
  // Throttled demand is at least what it used plus the time it was held back.
  double demand = usage.value_or(limit) + throttled_per_s.value_or(0);
  double suggested = std::ceil(std::max(limit * 1.5, demand * 1.3) * 10) / 10;
  Finding f = p.make_finding("cpu-throttling/" + s.cgroup_path);
  f.component = scope_name(s);
  f.severity = ratio >= p["critical_throttled_ratio"] ? Severity::critical : Severity::high;
  f.title = fmt::format("CPU throttled in {} of periods by a {:.2f}-core limit{}", percent(ratio), limit,
                        usage ? fmt::format(" (using {:.2f} cores)", *usage) : "");
  f.detail = fmt::format(
      "{} {}: {:.0f} of {:.0f} CFS periods throttled in the window{}. Everything in this cgroup runs slower "
      "than "
      "its code, its database or its network explain.",
      s.target, s.cgroup_path, throttled, periods,
      throttled_per_s ? fmt::format(", held back {:.2f} s per second", *throttled_per_s) : "");
  f.impact = {round_to(std::min(1.0, ratio), 4), "cpu_periods"};
  auto opt = [](const std::optional<double>& v) { return v ? json(round_to(*v, 4)) : json(nullptr); };
  f.evidence = {{"cgroup", s.cgroup_path},
                {"throttled_ratio", round_to(ratio, 4)},
                {"throttled_s_per_s", opt(throttled_per_s)},
                {"limit_cores", round_to(limit, 4)},
                {"usage_cores", opt(usage)},
                {"nr_periods", periods},
                {"nr_throttled", throttled},
                {"quota_us", *s.cpu_limit.quota_us},
                {"period_us", s.cpu_limit.period_us},
                {"suggested_limit_cores", suggested},
                {"cgroup_version", s.cgroup_version}};
  int runtime_cpus = std::max(1, static_cast<int>(std::ceil(limit)));
  f.remediation.summary = fmt::format(
      "Raise the CPU limit to about {:.1f} cores (or remove it and keep the request), or size the runtime to "
      "the "
      "quota: {} worker thread{} (GOMAXPROCS={}, -XX:ActiveProcessorCount={}, UV_THREADPOOL_SIZE), not one "
      "per "
      "host core{}.",
      suggested, runtime_cpus, runtime_cpus == 1 ? "" : "s", runtime_cpus, runtime_cpus,
      s.cpus > 0 ? fmt::format(" ({:.0f} here)", s.cpus) : "");
  f.remediation.config = fmt::format(
      "# Kubernetes\nresources:\n  limits:\n    cpu: \"{:.1f}\"\n# cgroup v2: echo \"{:.0f} {:.0f}\" > "
      "cpu.max",
      suggested, suggested * s.cpu_limit.period_us, s.cpu_limit.period_us);
  return {f};
}

std::vector<Finding> cpu_saturation(const Snapshot& s, const RuleParams& p) {
  if (s.cpus <= 0) return {};
  double rq_avg = s.run_queue.empty() ? 0
                                      : std::accumulate(s.run_queue.begin(), s.run_queue.end(), 0.0) /
                                            static_cast<double>(s.run_queue.size());
  double rq_max = s.run_queue.empty() ? 0 : *std::max_element(s.run_queue.begin(), s.run_queue.end());
  double per_cpu = rq_avg / s.cpus;
  static const char* kTicks[] = {"cpu_user",   "cpu_nice", "cpu_system",  "cpu_idle",
                                 "cpu_iowait", "cpu_irq",  "cpu_softirq", "cpu_steal"};
  double total = 0;
  for (const char* k : kTicks) total += hd(s, k);
  double steal = total > 0 ? hd(s, "cpu_steal") / total : 0;
  double busy = total > 0 ? 1 - (hd(s, "cpu_idle") + hd(s, "cpu_iowait")) / total : 0;
  double iowait = total > 0 ? hd(s, "cpu_iowait") / total : 0;
  // Pressure of the cgroup when there is one, else the host's.
  bool cgroup_psi = s.pressure_avg10.count("cgroup.cpu.some") > 0;
  double psi = avg10(s, cgroup_psi ? "cgroup.cpu.some" : "host.cpu.some");
  bool runnable = per_cpu >= p["max_runnable_per_cpu"];
  bool pressure = psi >= p["max_cpu_pressure"];
  bool stolen = steal >= p["max_steal_ratio"];
  if (!runnable && !pressure && !stolen) return {};
  Finding f = p.make_finding("cpu-saturation/" + s.hostname);
  f.component = "host:" + s.hostname;
  f.severity = (runnable && pressure) || steal >= p["high_steal_factor"] * p["max_steal_ratio"]
                   ? Severity::high
                   : Severity::medium;
  std::string why = runnable   ? fmt::format("{:.1f} runnable tasks per CPU", per_cpu)
                    : pressure ? fmt::format("tasks waited for a CPU {:.0f} % of the time", psi)
                               : fmt::format("{} of CPU time stolen by the hypervisor", percent(steal));
  f.title = fmt::format("CPU saturated on {}: {}", s.hostname, why);
  f.detail = fmt::format(
      "Run queue {:.1f} on average (peak {:.0f}) for {:.0f} CPUs; busy {}, iowait {}, steal {}; CPU pressure "
      "(PSI "
      "some avg10) {:.1f} %.",
      rq_avg, rq_max, s.cpus, percent(busy), percent(iowait), percent(steal), psi);
  f.impact = {round_to(std::min(1.0, std::max({psi / 100, steal, per_cpu >= 1 ? 1 - 1 / per_cpu : 0.0})), 4),
              "cpu_time"};
  f.evidence = {{"scope", cgroup_psi ? scope_name(s) : "host:" + s.hostname},
                {"runnable_per_cpu", round_to(per_cpu, 3)},
                {"run_queue_avg", round_to(rq_avg, 2)},
                {"run_queue_max", rq_max},
                {"cpus", s.cpus},
                {"cpu_pressure_some_avg10", psi},
                {"steal_ratio", round_to(steal, 4)},
                {"busy_ratio", round_to(busy, 4)},
                {"iowait_ratio", round_to(iowait, 4)}};
  f.remediation.summary =
      stolen ? "The hypervisor takes CPU time away: move to a less contended host or instance "
               "type with dedicated cores."
             : "The host has more work than CPUs: add CPUs or nodes, move neighbours away, or "
               "make the work cheaper before scaling the database or the network.";
  return {f};
}

std::vector<Finding> memory_pressure(const Snapshot& s, const RuleParams& p) {
  bool cgroup_psi = s.pressure_avg10.count("cgroup.memory.some") > 0;
  std::string prefix = cgroup_psi ? "cgroup.memory." : "host.memory.";
  double some = avg10(s, prefix + "some"), full = avg10(s, prefix + "full");
  double ooms =
      cg(s, "oom_kill") + (s.cgroup_path.empty() || s.cgroup_path == "/" ? hd(s, "vm_oom_kill") : 0);
  double swap_per_s = s.window_s > 0 ? (hd(s, "vm_pswpin") + hd(s, "vm_pswpout")) / s.window_s : 0;
  std::optional<double> limit_usage;
  if (s.memory_limit_bytes && *s.memory_limit_bytes > 0)
    limit_usage = s.memory_usage_bytes / *s.memory_limit_bytes;
  bool pressure = some >= p["max_memory_pressure"];
  bool swapping = swap_per_s >= p["max_swap_pages_per_s"];
  bool near_limit = limit_usage && *limit_usage >= p["max_limit_usage"];
  bool killed = ooms > p["max_oom_kills"];
  if (!pressure && !swapping && !killed && !near_limit) return {};
  Finding f = p.make_finding("memory-pressure/" + s.cgroup_path + "@" + s.hostname);
  f.component = scope_name(s);
  f.severity = killed || full >= p["high_full_memory_pressure"] ? Severity::high
               : pressure || swapping                           ? Severity::medium
                                                                : Severity::low;
  std::string what = killed     ? fmt::format("{:.0f} OOM kill{}", ooms, ooms == 1 ? "" : "s")
                     : pressure ? fmt::format("tasks stalled on memory {:.0f} % of the time", some)
                     : swapping ? fmt::format("swapping {:.0f} pages/s", swap_per_s)
                                : fmt::format("memory at {} of its limit", percent(*limit_usage));
  f.title = fmt::format("Memory pressure on {}: {}", scope_name(s), what);
  f.detail = fmt::format(
      "PSI memory some {:.1f} % / full {:.1f} %; {:.0f} OOM kills; {:.0f} pages/s swapped; usage {}{}.", some,
      full, ooms, swap_per_s, human_bytes(s.memory_usage_bytes),
      s.memory_limit_bytes ? " of a " + human_bytes(*s.memory_limit_bytes) + " limit" : "");
  f.impact = {round_to(std::min(1.0, std::max(some / 100, limit_usage.value_or(0) >= 1 ? 1.0 : 0.0)), 4),
              "time"};
  f.evidence = {{"scope", scope_name(s)},
                {"memory_pressure_some_avg10", some},
                {"memory_pressure_full_avg10", full},
                {"oom_kills", ooms},
                {"swap_pages_per_s", round_to(swap_per_s, 2)},
                {"usage_bytes", s.memory_usage_bytes},
                {"limit_bytes", s.memory_limit_bytes ? json(*s.memory_limit_bytes) : json(nullptr)},
                {"limit_usage", limit_usage ? json(round_to(*limit_usage, 4)) : json(nullptr)}};
  f.remediation.summary =
      "Raise the memory limit or shrink the working set; stop swapping; check the kernel log for "
      "what the OOM killer chose.";
  return {f};
}

std::vector<Finding> network_drops(const Snapshot& s, const RuleParams& p) {
  double overflows = hd(s, "TcpExtListenOverflows"), drops = hd(s, "TcpExtListenDrops");
  double retrans = hd(s, "TcpRetransSegs"), out = hd(s, "TcpOutSegs");
  double ratio = out > 0 ? retrans / out : 0;
  bool listen = overflows + drops > p["max_listen_drops"];
  bool retransmits = out >= p["min_segments"] && ratio >= p["max_retransmit_ratio"];
  if (!listen && !retransmits) return {};
  Finding f = p.make_finding("network-drops/" + s.hostname);
  f.component = "host:" + s.hostname;
  f.severity = listen                                                             ? Severity::high
               : ratio >= p["high_retransmit_factor"] * p["max_retransmit_ratio"] ? Severity::high
                                                                                  : Severity::medium;
  f.title = listen ? fmt::format("{:.0f} connections dropped on full listen queues on {}",
                                 std::max(overflows, drops), s.hostname)
                   : fmt::format("{} of TCP segments retransmitted on {}", percent(ratio), s.hostname);
  f.detail =
      fmt::format("ListenOverflows {:.0f}, ListenDrops {:.0f}; {:.0f} of {:.0f} segments retransmitted.",
                  overflows, drops, retrans, out);
  f.impact = {std::nullopt, "connections"};
  f.evidence = {{"listen_overflows", overflows},
                {"listen_drops", drops},
                {"retransmitted_segments", retrans},
                {"sent_segments", out},
                {"retransmit_ratio", round_to(ratio, 5)}};
  f.remediation.summary =
      listen ? "Raise net.core.somaxconn and the server's listen backlog, and accept faster."
             : "Look for packet loss on the path: NIC errors, congested links, MTU problems.";
  return {f};
}

namespace {

// The host rules: declared here, judged in this order.
const std::vector<Rule<const Snapshot>>& rule_table() {
  static const std::vector<Rule<const Snapshot>> table = {
      {{"infra.cpu_throttling",
        Category::infrastructure,
        "the cgroup's CFS quota throttles it: throttled periods / periods over the window above the "
        "threshold",
        "Raise (or remove) the CPU limit to above the usage it needs, or make the runtime match the quota: "
        "thread pools, GOMAXPROCS, -XX:ActiveProcessorCount, worker counts sized to the limit, not the "
        "host's cores.",
        {
            {"min_throttled_ratio", 0.25, "ratio", "throttled periods / periods", sources::kMixin},
            {"critical_throttled_ratio", 0.5, "ratio", "ratio from which the finding is critical",
             sources::kChokepoint},
        },
        {"cgroup", "throttled_ratio", "throttled_s_per_s", "limit_cores", "usage_cores", "nr_periods",
         "nr_throttled", "quota_us", "period_us", "suggested_limit_cores", "cgroup_version"}},
       cpu_throttling},
      {{"infra.cpu_saturation",
        Category::infrastructure,
        "more runnable tasks than CPUs (procs_running), CPU pressure (PSI some avg10) or steal time is high",
        "Give the workload more CPUs (a bigger node, fewer neighbours), spread it over more nodes, or make "
        "it cheaper; with steal time, move to a less contended host.",
        {
            {"max_runnable_per_cpu", 1.5, "tasks", "average runnable tasks per CPU", sources::kChokepoint},
            {"max_cpu_pressure", 20, "%", "PSI cpu some avg10: share of time some task waited for a CPU",
             sources::kChokepoint},
            {"max_steal_ratio", 0.1, "ratio", "CPU time stolen by the hypervisor", sources::kChokepoint},
            {"high_steal_factor", 2, "x",
             "stolen CPU time / max_steal_ratio from which it is high (as are runnable tasks and pressure "
             "together)",
             sources::kChokepoint},
        },
        {"scope", "runnable_per_cpu", "run_queue_avg", "run_queue_max", "cpus", "cpu_pressure_some_avg10",
         "steal_ratio", "busy_ratio", "iowait_ratio"}},
       cpu_saturation},
      {{"infra.memory_pressure",
        Category::infrastructure,
        "memory pressure (PSI), OOM kills, swapping, or a cgroup near its memory limit",
        "Raise the memory limit or reduce the working set (caches, batch sizes); stop swapping (more RAM or "
        "vm.swappiness); find what the OOM killer chose in the kernel log.",
        {
            {"max_memory_pressure", 10, "%", "PSI memory some avg10", sources::kChokepoint},
            {"high_full_memory_pressure", 10, "%", "PSI memory full avg10 from which it is high",
             sources::kChokepoint},
            {"max_oom_kills", 0, "kills", "OOM kills in the window above which it fires, high",
             sources::kChokepoint},
            {"max_swap_pages_per_s", 100, "pages/s", "pages swapped in + out per second",
             sources::kChokepoint},
            {"max_limit_usage", 0.9, "ratio", "cgroup memory usage / limit", sources::kChokepoint},
        },
        {"scope", "memory_pressure_some_avg10", "memory_pressure_full_avg10", "oom_kills", "swap_pages_per_s",
         "usage_bytes", "limit_bytes", "limit_usage"}},
       memory_pressure},
      {{"infra.network_drops",
        Category::infrastructure,
        "the kernel drops connections on full listen queues (ListenOverflows/ListenDrops) or retransmits "
        "many TCP segments",
        "Raise the listen backlog (net.core.somaxconn and the server's backlog) and accept faster (more "
        "acceptor threads); for retransmits, look at packet loss on the path (NIC errors, congested links, "
        "MTU).",
        {
            {"max_listen_drops", 0, "drops", "listen-queue overflows or drops in the window",
             sources::kChokepoint},
            {"max_retransmit_ratio", 0.02, "ratio", "retransmitted / sent TCP segments",
             sources::kChokepoint},
            {"high_retransmit_factor", 5, "x",
             "retransmit ratio / max_retransmit_ratio from which it is high (listen drops always are)",
             sources::kChokepoint},
            {"min_segments", 1000, "segments", "segments sent before the ratio counts", sources::kChokepoint},
        },
        {"listen_overflows", "listen_drops", "retransmitted_segments", "sent_segments", "retransmit_ratio"}},
       network_drops},
  };
  return table;
}

}  // namespace

RuleDeclarations rule_declarations() {
  return declarations(rule_table(), {{"cgroup.cpu_throttled_ratio", +1, 0.05}});
}

namespace {

// A container's id in its cgroup path (docker, containerd, CRI-O: 64 hex digits), as the spans'
// container.id resource attribute names it.
std::string container_id(const std::string& path) {
  size_t run = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    run = std::isxdigit(static_cast<unsigned char>(path[i])) ? run + 1 : 0;
    bool ends = i + 1 == path.size() || !std::isxdigit(static_cast<unsigned char>(path[i + 1]));
    if (run == 64 && ends) return path.substr(i + 1 - 64, 64);
  }
  return "";
}

// The CPU the watched process was held back from, for the spans it emitted to be set beside
// (src/core/reconcile.cpp), and as infrastructure's measured attribution: the share of the window.
void add_stalls(const Snapshot& s, Judgement& j) {
  for (const auto& f : j.findings) {
    if (f.rule != "infra.cpu_throttling" && f.rule != "infra.cpu_saturation") continue;
    if (f.severity < Severity::medium || !f.impact.share) continue;
    ProcessIdentity who{s.pid > 0 ? std::to_string(s.pid) : "", s.hostname, container_id(s.cgroup_path)};
    j.crosscheck.stalls.push_back({who, *f.impact.share, f.id, f.rule});
    double& a = j.attribution[Category::infrastructure];
    a = std::max(a, *f.impact.share);
  }
}

}  // namespace

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  Judgement j;
  judge_rules(j, settings, rule_table(), s);
  j.notes = s.notes;
  j.notes.push_back(cpu_limit_note(s));
  if (!s.cgroup_version.empty())
    j.notes.push_back(fmt::format("cgroup {} ({}): cpu {}, memory {}{}", s.cgroup_path, s.cgroup_version,
                                  s.cpu_dir.empty() ? "-" : s.cpu_dir,
                                  s.memory_dir.empty() ? "-" : s.memory_dir,
                                  s.unified_dir.empty() ? "" : ", unified " + s.unified_dir));
  std::map<std::string, std::string> labels = {{"target", target.name}};
  if (s.cpu_limit.state == "limited" && s.cpu_limit.quota_us) {
    j.metrics.push_back({"cgroup.cpu_limit_cores", round_to(*s.cpu_limit.quota_us / s.cpu_limit.period_us, 4),
                         "cores", labels});
    double periods = cg(s, "nr_periods");
    if (periods > 0)
      j.metrics.push_back(
          {"cgroup.cpu_throttled_ratio", round_to(cg(s, "nr_throttled") / periods, 4), "ratio", labels});
  }
  // A --pid in the root cgroup: its own usage, not the machine's under the cgroup's name.
  if (auto usage = cpu_usage_cores(s))
    j.metrics.push_back(
        {process_alone(s.pid, s.cgroup_path) ? "process.cpu_usage_cores" : "cgroup.cpu_usage_cores",
         round_to(*usage, 4), "cores", labels});
  if (!s.run_queue.empty())
    j.metrics.push_back({"host.run_queue_avg",
                         round_to(std::accumulate(s.run_queue.begin(), s.run_queue.end(), 0.0) /
                                      static_cast<double>(s.run_queue.size()),
                                  3),
                         "tasks", labels});
  j.metrics.push_back({"host.cpus", s.cpus, "cpus", labels});
  j.metrics.push_back({"host.read_cpu_ms_per_sample", round_to(s.read_cpu_ms, 3), "ms", labels});
  add_stalls(s, j);
  return j;
}

}  // namespace cp::host
