// Host and container: cgroup resolution and readings on recorded trees (v1, v1 inside a container,
// v2, v2 without the cpu controller, hybrid), and the rules on snapshots.
#include <doctest/doctest.h>

#include "harness.hpp"
#include "probes/host/cgroup.hpp"
#include "probes/host/collector.hpp"
#include "probes/host/rules.hpp"

using namespace cp;

// This file's names (cp::host's among them) stay in it when a unity build compiles
// it together with other tests.
namespace test_host {

using namespace cp::host;

namespace {

std::string tree(const std::string& name) {
  return test::source_dir() + "/tests/fixtures/host/" + name;
}

Location located(const std::string& name, const std::string& flag, const std::string& spec) {
  Location where;
  auto err = locate(tree(name), flag, spec, where);
  REQUIRE_MESSAGE(err.empty(), err);
  return where;
}

// A snapshot over a window from two readings of the same tree, with `end` counters adjusted.
Snapshot window_snapshot(const Reading& start, const Reading& end, double window_s) {
  Snapshot s;
  s.target = "pid 4242";
  s.hostname = "node-1";
  s.cgroup_path = "/docker/4f1a";
  s.cgroup_version = "v1";
  s.window_s = window_s;
  add_readings(s, start, end, true);  // what the collector does with its two readings
  s.cpus = 2;                         // a 2-CPU node, whatever the recorded tree says
  return s;
}

std::vector<Finding> judge_rule(const Snapshot& s, const char* rule) {
  Target t{"host", "--pid", {"4242"}, "pid:4242", {}};
  std::vector<Finding> out;
  for (auto& f : judge(s, t, {}).findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("parsers: /proc/PID/cgroup, mountinfo, cpu.max, PSI, snmp") {
  auto lines = parse_proc_cgroup("4:cpu,cpuacct:/docker/x\n1:name=systemd:/\n0::/\n");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(lines[2].id == 0);
  CHECK(lines[2].controllers.empty());
  auto [quota, period] = parse_cpu_max("max 100000\n");
  CHECK_FALSE(quota);
  CHECK(period == 100000);
  CHECK(*parse_cpu_max("20000 100000").first == 20000);
  auto psi = parse_psi(
      "some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.25 avg60=0 avg300=0 total=7\n");
  REQUIRE(psi);
  CHECK(psi->some_avg10 == 1.5);
  CHECK(psi->full_total_us == 7);
  CHECK_FALSE(parse_psi("garbage"));
  auto tcp = parse_header_value_pairs("Tcp: A B\nTcp: 1 2\nUdp: A\nUdp: 9\n", "Tcp:");
  CHECK(tcp["B"] == 2);
  CHECK(tcp.count("A") == 1);
}

TEST_CASE("v1 (Docker host): co-mounted cpu,cpuacct, quota, throttled ns -> us, memory and OOM") {
  auto w = located("v1", "--pid", "4242");
  CHECK(w.dirs.version == "v1");
  CHECK(w.dirs.cpu == "/sys/fs/cgroup/cpu,cpuacct/docker/4f1a");
  CHECK(w.dirs.memory == "/sys/fs/cgroup/memory/docker/4f1a");
  auto r = read_all(w);
  CHECK(r.cpu_limit.state == "limited");
  CHECK(*r.cpu_limit.quota_us == 50000);
  CHECK(r.cgroup["nr_throttled"] == 300);
  CHECK(r.cgroup["throttled_usec"] == doctest::Approx(12345678.9));
  CHECK(r.cgroup["usage_usec"] == doctest::Approx(480000000));
  CHECK(*r.memory_limit_bytes == 536870912);
  CHECK(r.cgroup["oom_kill"] == 2);
  CHECK(r.host["cpus"] == 2);
  CHECK(r.host["procs_running"] == 3);
  CHECK(r.host["TcpRetransSegs"] == 17);
  CHECK(r.host["TcpExtListenOverflows"] == 4);
  CHECK(r.pressure_avg10["host.cpu.some"] == doctest::Approx(2.04));
}

TEST_CASE("v1 inside a container: the mount's root is the container's cgroup, no limit is 'no limit'") {
  auto w = located("v1_container", "--host", "");
  CHECK(w.dirs.cpu == "/sys/fs/cgroup/cpu,cpuacct");
  auto r = read_all(w);
  CHECK(r.cpu_limit.state == "no_limit");
  CHECK_FALSE(r.memory_limit_bytes);  // 9223372036854771712 means no limit
}

TEST_CASE("v2: cpu.max, cpu.stat in microseconds, per-cgroup pressure, memory.events") {
  auto w = located("v2", "--pid", "4242");
  CHECK(w.dirs.version == "v2");
  CHECK(w.dirs.cpu == w.dirs.unified);
  auto r = read_all(w);
  CHECK(r.cpu_limit.state == "limited");
  CHECK(*r.cpu_limit.quota_us / r.cpu_limit.period_us == doctest::Approx(1.5));
  CHECK(r.cgroup["throttled_usec"] == 345678);
  CHECK(r.cgroup["oom_kill"] == 3);
  CHECK(r.pressure_avg10["cgroup.memory.some"] == doctest::Approx(12.5));
  CHECK(*r.memory_limit_bytes == 268435456);
}

TEST_CASE("v2 without the cpu controller: throttling is 'not measurable', not 0 %") {
  auto w = located("v2_nocpu", "--pid", "4242");
  auto r = read_all(w);
  CHECK(r.cpu_limit.state == "not_measurable");
  CHECK(r.cpu_limit.source.find("cpu controller is not enabled") != std::string::npos);
  CHECK_FALSE(r.cgroup.count("nr_periods"));
  CHECK_FALSE(r.memory_limit_bytes);  // memory.max = max
  Snapshot s = window_snapshot(r, r, 5);
  CHECK(cpu_limit_note(s).find("not measurable") != std::string::npos);
  CHECK(judge_rule(s, "infra.cpu_throttling").empty());
}

TEST_CASE("hybrid (recorded): v1 controllers, v2 files from the 0:: line, cpuacct apart summed per task") {
  auto w = located("hybrid", "--pid", "4242");
  CHECK(w.dirs.version == "hybrid");
  CHECK(w.dirs.cpu == "/sys/fs/cgroup/cpu/cp-demo");
  CHECK(w.dirs.unified == "/sys/fs/cgroup/unified");
  CHECK_FALSE(w.dirs.cpuacct_same_group);
  auto r = read_all(w);
  CHECK(r.cpu_limit.state == "limited");
  CHECK(r.cgroup["nr_throttled"] == 60);
  CHECK(r.cgroup["usage_usec"] == doctest::Approx(1.2e6));  // 120 ticks of the one task at 100 Hz
  CHECK_FALSE(r.pressure_avg10.count("cgroup.cpu.some"));   // the 0:: cgroup is the root: host-wide
}

TEST_CASE("--cgroup accepts a directory or a cgroup path, errors name what is wrong") {
  auto dir = located("v1", "--cgroup", "/sys/fs/cgroup/memory/docker/4f1a");
  CHECK(dir.dirs.cpu == "/sys/fs/cgroup/cpu,cpuacct/docker/4f1a");
  auto path = located("v2", "--cgroup",
                      "/kubepods.slice/kubepods-burstable.slice/pod1.slice/cri-containerd-abc.scope");
  CHECK(read_all(path).cpu_limit.state == "limited");
  Location w;
  CHECK(locate(tree("v1"), "--pid", "999999", w).find("not found") != std::string::npos);
  CHECK(locate(tree("v1"), "--cgroup", "relative/path", w).find("expected") != std::string::npos);
}

TEST_CASE("infra.cpu_throttling: ratio, throttled seconds per second, limit and usage cores") {
  auto r0 = read_all(located("v1", "--pid", "4242"));
  auto r1 = r0;
  r1.cgroup["nr_periods"] += 60;
  r1.cgroup["nr_throttled"] += 45;
  r1.cgroup["throttled_usec"] += 3.0e6;
  r1.cgroup["usage_usec"] += 3.0e6;
  auto found = judge_rule(window_snapshot(r0, r1, 6), "infra.cpu_throttling");
  REQUIRE(found.size() == 1);
  const auto& f = found[0];
  CHECK(f.evidence["throttled_ratio"].get<double>() == doctest::Approx(0.75));
  CHECK(f.evidence["throttled_s_per_s"].get<double>() == doctest::Approx(0.5));
  CHECK(f.evidence["limit_cores"].get<double>() == doctest::Approx(0.5));
  CHECK(f.evidence["usage_cores"].get<double>() == doctest::Approx(0.5));
  CHECK(f.severity == Severity::critical);
  CHECK(f.category == Category::infrastructure);
  CHECK(f.remediation.summary.find("GOMAXPROCS=1") != std::string::npos);
  // Below the kubernetes-mixin 25 %: nothing.
  auto r2 = r0;
  r2.cgroup["nr_periods"] += 60;
  r2.cgroup["nr_throttled"] += 6;
  CHECK(judge_rule(window_snapshot(r0, r2, 6), "infra.cpu_throttling").empty());
  CHECK(cpu_limit_note(window_snapshot(r0, r2, 6)).find("10 % of periods throttled") != std::string::npos);
}

TEST_CASE("no limit: 'no limit', no throttling finding") {
  auto r = read_all(located("v1_container", "--host", ""));
  Snapshot s = window_snapshot(r, r, 6);
  CHECK(cpu_limit_note(s).find("no limit") != std::string::npos);
  CHECK(judge_rule(s, "infra.cpu_throttling").empty());
}

TEST_CASE("saturation, memory pressure and network drops from the host counters") {
  auto r0 = read_all(located("v2", "--pid", "4242"));
  auto r1 = r0;
  Snapshot s = window_snapshot(r0, r1, 5);
  s.run_queue = {5, 6, 5, 6};  // 2 CPUs
  auto sat = judge_rule(s, "infra.cpu_saturation");
  REQUIRE(sat.size() == 1);
  CHECK(sat[0].evidence["runnable_per_cpu"].get<double>() == doctest::Approx(2.75));
  // memory: cgroup PSI 12.5 % some, 95 % of the limit
  auto mem = judge_rule(s, "infra.memory_pressure");
  REQUIRE(mem.size() == 1);
  CHECK(mem[0].evidence["memory_pressure_some_avg10"] == 12.5);
  CHECK(mem[0].evidence["limit_usage"].get<double>() > 0.9);
  r1.cgroup["oom_kill"] += 1;
  CHECK(judge_rule(window_snapshot(r0, r1, 5), "infra.memory_pressure")[0].severity == Severity::high);
  // network: listen overflows in the window
  auto r2 = r0;
  r2.host["TcpExtListenOverflows"] += 12;
  auto net = judge_rule(window_snapshot(r0, r2, 5), "infra.network_drops");
  REQUIRE(net.size() == 1);
  CHECK(net[0].evidence["listen_overflows"] == 12);
  auto r3 = r0;
  r3.host["TcpOutSegs"] += 10000;
  r3.host["TcpRetransSegs"] += 500;
  auto retrans = judge_rule(window_snapshot(r0, r3, 5), "infra.network_drops");
  REQUIRE(retrans.size() == 1);
  CHECK(retrans[0].evidence["retransmit_ratio"].get<double>() == doctest::Approx(0.05));
  // Quiet counters: nothing.
  Snapshot quiet = window_snapshot(read_all(located("v1_container", "--host", "")),
                                   read_all(located("v1_container", "--host", "")), 5);
  quiet.run_queue = {1, 1};
  quiet.pressure_avg10.clear();
  Target t{"host", "--host", {""}, "host:x", {}};
  CHECK(judge(quiet, t, {}).findings.empty());
}

}  // namespace test_host
