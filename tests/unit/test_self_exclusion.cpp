// chokepoint never judges its own load: the judgements that leave it out on snapshots (Redis's
// own commands and connections, PostgreSQL's own transactions, a --pid in the root cgroup). The
// collectors' side (tagging, naming, filtering) is asserted live in
// tests/integration/test_self_exclusion_live.cpp; traces in test_traces_self.cpp.
#include <doctest/doctest.h>

#include <algorithm>

#include "harness.hpp"
#include "probes/host/rules.hpp"
#include "probes/postgres/rules.hpp"
#include "probes/redis/rules.hpp"

using namespace cp;

namespace {

// A 10 s window in which the application sent 50 GETs and chokepoint 1000 PINGs, 1 INFO and
// 1 SLOWLOG GET; 3 connections at the end, one of them chokepoint's.
redis::Snapshot redis_with_own_load(bool tallied) {
  redis::Snapshot s;
  s.version = "7.0.15";
  s.window_s = 10;
  s.info_start = {{"total_commands_processed", "5000"},
                  {"cmdstat_get", "calls=100,usec=200,usec_per_call=2.00"},
                  {"cmdstat_ping", "calls=10,usec=10,usec_per_call=1.00"},
                  {"connected_clients", "3"}};
  s.info_end = {{"total_commands_processed", "6052"},
                {"cmdstat_get", "calls=150,usec=300,usec_per_call=2.00"},
                {"cmdstat_ping", "calls=1010,usec=1010,usec_per_call=1.00"},
                {"cmdstat_slowlog|get", "calls=1,usec=5,usec_per_call=5.00"},
                {"connected_clients", "3"}};
  s.config = {{"maxclients", "100"}};
  if (tallied) {
    s.own_commands = {{"ping", 1000}, {"info", 1}, {"slowlog|get", 1}};
    s.own_clients = 1;
  }
  return s;
}

double metric(const Judgement& j, const std::string& name) {
  for (const auto& m : j.metrics)
    if (m.name == name) return m.value;
  FAIL("no metric " << name);
  return 0;
}

Judgement judge_redis(const redis::Snapshot& s) {
  return redis::judge(s, Target{"redis", "--redis", {""}, "redis://10.0.0.5:6379/0", {}}, Settings{});
}

}  // namespace

TEST_CASE("redis: chokepoint's own commands and connection are left out of the counters") {
  redis::Snapshot own = redis_with_own_load(true);
  CHECK(redis::commands_processed(own) == 50);
  CHECK(redis::command_calls(own, "ping") == 0);
  CHECK(redis::command_calls(own, "get") == 50);
  CHECK(redis::command_calls(own, "slowlog|get") == 0);
  CHECK(redis::connected_clients(own) == 2);
  Judgement j = judge_redis(own);
  CHECK(metric(j, "redis.commands_per_s") == doctest::Approx(5));
  CHECK(metric(j, "redis.connected_clients") == 2);
  bool noted = false;
  for (const auto& n : j.notes)
    noted = noted || n.find("1002 commands it sent during the window") != std::string::npos;
  CHECK(noted);
  // Without the tally (evidence from before it existed) the counters are read as they are.
  redis::Snapshot old = redis_with_own_load(false);
  CHECK(redis::commands_processed(old) == 1052);
  CHECK(metric(judge_redis(old), "redis.commands_per_s") == doctest::Approx(105.2));
}

TEST_CASE("redis: Redis 6 counts a container's subcommands under its name, and so does the tally") {
  redis::Snapshot s = redis_with_own_load(true);
  s.info_start["cmdstat_client"] = "calls=4,usec=4,usec_per_call=1.00";
  s.info_end["cmdstat_client"] = "calls=9,usec=9,usec_per_call=1.00";  // CLIENT SETNAME + LIST: ours
  s.own_commands["client|setname"] = 1;
  s.own_commands["client|list"] = 1;
  CHECK(redis::command_calls(s, "client") == 3);
  CHECK(redis::command_calls(s, "client|list") == 0);  // Redis 7's key, absent here
}

TEST_CASE("redis: clients_saturation counts the application's connections, not chokepoint's") {
  redis::Snapshot s = redis_with_own_load(true);
  s.config["maxclients"] = "10";
  s.info_end["connected_clients"] = "9";  // 8 of the application's and chokepoint's
  Judgement j = judge_redis(s);
  bool saturated = false;
  for (const auto& f : j.findings) saturated = saturated || f.rule == "cache.clients_saturation";
  CHECK_FALSE(saturated);  // 8 of 10; 9 of 10 (90 %, the threshold) only with chokepoint counted
  s.own_clients = 0;
  j = judge_redis(s);
  saturated = false;
  for (const auto& f : j.findings) saturated = saturated || f.rule == "cache.clients_saturation";
  CHECK(saturated);
}

TEST_CASE("postgres: chokepoint's own statements are not the application's transactions") {
  pg::Snapshot s;
  s.window_s = 10;
  s.database_start = {{"xact_commit", 1000}, {"xact_rollback", 0}};
  s.database_end = {{"xact_commit", 1260}, {"xact_rollback", 0}};
  s.self_calls = 60;  // its catalog and activity reads, one autocommit transaction each
  CHECK(pg::derive_workload(s).xacts == 200);
  s.self_calls = 0;
  CHECK(pg::derive_workload(s).xacts == 260);
}

namespace {

// A --pid over 10 s: the process used 50 ticks (0.5 s) of CPU, its cgroup counters 40 s.
host::Snapshot pid_in(const std::string& cgroup_path) {
  host::Snapshot s;
  s.target = "pid 4242";
  s.pid = 4242;
  s.hostname = "node-1";
  s.cgroup_path = cgroup_path;
  s.cgroup_version = "v2";
  s.window_s = 10;
  s.ticks_per_s = 100;
  s.cpus = 8;
  s.cpu_limit.state = "no_limit";
  s.cgroup_start = {{"usage_usec", 1e9}};
  s.cgroup_end = {{"usage_usec", 1e9 + 40e6}};
  s.host_start = {{"process_cpu_ticks", 1000}};
  s.host_end = {{"process_cpu_ticks", 1050}};
  return s;
}

}  // namespace

TEST_CASE("host: a --pid in the root cgroup uses its own CPU, not the whole machine's") {
  host::Snapshot root = pid_in("/");
  REQUIRE(host::cpu_usage_cores(root));
  CHECK(*host::cpu_usage_cores(root) == doctest::Approx(0.05));
  Target t{"host", "--pid", {"4242"}, "pid 4242", {}};
  Judgement j = host::judge(root, t, Settings{});
  CHECK(metric(j, "process.cpu_usage_cores") == doctest::Approx(0.05));
  for (const auto& m : j.metrics) CHECK(m.name != "cgroup.cpu_usage_cores");
  // In its own cgroup, the cgroup's usage is the answer (every process of the container).
  host::Snapshot own = pid_in("/system.slice/shop.service");
  CHECK(*host::cpu_usage_cores(own) == doctest::Approx(4.0));
  CHECK(metric(host::judge(own, t, Settings{}), "cgroup.cpu_usage_cores") == doctest::Approx(4.0));
  // --host (no pid) in the root cgroup: the machine's usage is what was asked for.
  host::Snapshot machine = pid_in("/");
  machine.pid = 0;
  CHECK(*host::cpu_usage_cores(machine) == doctest::Approx(4.0));
}

TEST_CASE("redis: each command's time in the window is the server's view for the reconciler, chokepoint's own left out") {
  Judgement j = judge_redis(redis_with_own_load(true));
  const auto& st = j.crosscheck.statements;
  auto get = std::find_if(st.begin(), st.end(), [](const StatementTime& t) { return t.statement == "get"; });
  REQUIRE(get != st.end());
  CHECK(get->server);
  CHECK(get->datastore == "redis");
  CHECK(get->calls == doctest::Approx(50));
  CHECK(get->total_ms == doctest::Approx(0.1));  // 100 us over the window
  CHECK(std::none_of(st.begin(), st.end(), [](const StatementTime& t) { return t.statement == "ping"; }));
}
