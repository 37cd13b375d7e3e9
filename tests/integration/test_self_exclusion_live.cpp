// chokepoint never measures itself, against the real servers of tests/tools/services.sh: another
// chokepoint's PostgreSQL session and statements, chokepoint's Redis commands, connections and
// slow-log entries are left out by the collectors (the judgements on snapshots are unit tests:
// test_self_exclusion.cpp, test_traces_self.cpp).
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "harness.hpp"
#include "pg_load.hpp"

using namespace cp::test;
using nlohmann::json;

namespace {

json probe_snapshot(const std::string& evidence_path, const std::string& kind) {
  json evidence = json::parse(slurp(evidence_path));
  for (const auto& p : evidence["probes"])
    if (p["kind"] == kind) return p["snapshot"];
  FAIL("no " << kind << " probe in " << evidence_path);
  return {};
}

double metric(const nlohmann::ordered_json& report, const std::string& name) {
  for (const auto& m : report["metrics"])
    if (m["name"] == name) return m["value"].get<double>();
  FAIL("no metric " << name);
  return 0;
}

}  // namespace

TEST_CASE("postgres: another chokepoint's session and its tagged statements are never judged") {
  // "Another chokepoint" (application_name chokepoint, tagged statements) sleeps 0.3 s per
  // statement through the window, next to a healthy application: unfiltered, it would be the top
  // statement, a slow query and an active session in every sample.
  std::string sleeper =
      "for i in $(seq 40); do echo '/* chokepoint */ SELECT pg_sleep(0.3);'; done | PGAPPNAME=chokepoint "
      "psql -X "
      "-q -o /dev/null '" +
      service("PG_APP_DSN") + "'";
  reset_statistics();
  Background other({"sh", "-c", sleeper});
  std::string evidence = temp_path("self_pg.evidence.json");
  ReportRun r;
  std::thread diagnose([&] {
    r = diagnose_under({"healthy", service("PG_APP_DSN"), {"-c", "2"}},
                       {"--postgres", service("PG_APP_DSN"), "--save-evidence", evidence});
  });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  // The control: both chokepoint sessions were there to be seen.
  CHECK(std::stoi(
            psql_value("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'chokepoint'")) >= 2);
  diagnose.join();
  REQUIRE(r.exit_code == 0);
  json snap = probe_snapshot(evidence, "postgres");
  REQUIRE(snap["activity"].size() > 10);
  for (const auto& sample : snap["activity"]) {
    for (const auto& c : sample["clients"]) CHECK(c["application_name"] != "chokepoint");
    for (const auto& s : sample["sessions"]) CHECK(s["application_name"] != "chokepoint");
  }
  for (const auto& st : snap["statements"]) {
    std::string q = st["query"];
    CHECK(q.find("pg_sleep") == std::string::npos);
    // chokepoint's own reads (the test's control query above reads pg_stat_activity too, untagged).
    CHECK(q.find("pg_blocking_pids") == std::string::npos);
    CHECK(q.find("pg_stat_statements(") == std::string::npos);
  }
  CHECK(metric(r.report, "pg.chokepoint_statements") > 0);
  for (const auto& f : r.report["findings"]) CHECK(f.dump().find("pg_sleep") == std::string::npos);
}

namespace {

std::string redis_cli_output(const std::string& port, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"redis-cli", "-p", port};
  cmd.insert(cmd.end(), args.begin(), args.end());
  auto r = run(cmd);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out;
}

}  // namespace

TEST_CASE("redis: chokepoint's PINGs and INFOs and its connection are not the application's load") {
  std::string port = service("REDIS_BIG_PORT");
  redis_cli_output(port, {"FLUSHALL"});
  std::string evidence = temp_path("self_redis.evidence.json");
  auto r = diagnose_json({"--redis", service("REDIS_BIG_URL"), "--window", "3", "--save-evidence", evidence});
  REQUIRE(r.exit_code == 0);
  json snap = probe_snapshot(evidence, "redis");
  // A PING every ping_interval_ms through the window, every one tallied; the application sent nothing.
  REQUIRE(snap["own_commands"].value("ping", 0.0) > 10);
  CHECK(snap["own_commands"].value("info", 0.0) == 1);
  CHECK(snap["client_name_error"] == "");
  CHECK(snap["own_clients"].get<double>() >= 1);
  CHECK(metric(r.report, "redis.commands_per_s") < 2);
  double processed = std::stod(snap["info_end"]["total_commands_processed"].get<std::string>()) -
                     std::stod(snap["info_start"]["total_commands_processed"].get<std::string>());
  CHECK(processed > 10);  // the control: unsubtracted, the rate would be chokepoint's PINGs
}

TEST_CASE("redis: a second chokepoint's connection and chokepoint's slow-log entries are left out") {
  std::string port = service("REDIS_BIG_PORT");
  std::string slower = redis_cli_output(port, {"CONFIG", "GET", "slowlog-log-slower-than"});
  slower = slower.substr(slower.find('\n') + 1);
  while (!slower.empty() && slower.back() == '\n') slower.pop_back();
  redis_cli_output(port, {"SLOWLOG", "RESET"});
  redis_cli_output(port, {"CONFIG", "SET", "slowlog-log-slower-than", "0"});  // every command is slow
  Background other({chokepoint_bin(), "diagnose", "--redis", service("REDIS_BIG_URL"), "--window", "6",
                    "--format", "json", "--output", temp_path("other_redis.json")});
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::string evidence = temp_path("self_redis_slow.evidence.json");
  auto r = diagnose_json({"--redis", service("REDIS_BIG_URL"), "--window", "2", "--save-evidence", evidence});
  redis_cli_output(port, {"CONFIG", "SET", "slowlog-log-slower-than", slower.empty() ? "10000" : slower});
  other.wait();
  REQUIRE(r.exit_code == 0);
  json snap = probe_snapshot(evidence, "redis");
  CHECK(snap["own_clients"].get<double>() >= 2);  // this run's connection and the other's
  CHECK(metric(r.report, "redis.connected_clients") ==
        std::stod(snap["info_end"]["connected_clients"].get<std::string>()) -
            snap["own_clients"].get<double>());
  CHECK(snap["own_slow_entries"].get<double>() > 10);  // the control: they were logged
  for (const auto& e : snap["slowlog"]) CHECK(e["command"] != "PING");
  CHECK(findings_of(r.report, "cache.slow_commands").empty());
}

TEST_CASE("pgbouncer: chokepoint's own PostgreSQL session through the pooler is not a client of the pool") {
  std::string evidence = temp_path("self_pgbouncer.evidence.json");
  auto r = diagnose_json({"--postgres", service("PGB_SHOP_DSN"), "--pgbouncer", service("PGB_ADMIN_DSN"),
                          "--window", "2", "--save-evidence", evidence});
  REQUIRE(r.exit_code == 0);
  json snap = probe_snapshot(evidence, "pgbouncer");
  // The control: the pool's samples count chokepoint's --postgres session among its active clients.
  double max_active = 0;
  for (const auto& sample : snap["pool_samples"])
    for (const auto& row : sample["pools"])
      if (row.value("database", "") == "shop" && row.value("user", "") == "app")
        max_active = std::max(max_active, std::stod(row.value("cl_active", "0")));
  CHECK(max_active >= 1);
  REQUIRE(snap["own_clients"].contains("shop/app"));
  CHECK(snap["own_clients"]["shop/app"].get<double>() == 1);
  CHECK_FALSE(snap["own_clients"].contains("pgbouncer/app"));  // the console's pool is never judged anyway
}

TEST_CASE("host: a --pid in the root cgroup reports its own CPU, not the machine's") {
  Background idle({"sleep", "30"});
  Background busy({"sh", "-c", "while :; do :; done"});
  std::string evidence = temp_path("self_host.evidence.json");
  auto quiet =
      diagnose_json({"--pid", std::to_string(idle.pid()), "--window", "2", "--save-evidence", evidence});
  REQUIRE(quiet.exit_code == 0);
  json snap = probe_snapshot(evidence, "host");
  if (snap["cgroup_path"] != "/") {
    MESSAGE("skipped: this test's processes are in cgroup " << snap["cgroup_path"] << ", not the root one");
    return;
  }
  // The control: the root cgroup's counters carry the machine's usage (at least the busy loop's).
  double machine =
      (snap["cgroup_end"].value("usage_usec", 0.0) - snap["cgroup_start"].value("usage_usec", 0.0)) / 1e6 /
      snap["window_s"].get<double>();
  CHECK(machine > 0.5);
  CHECK(metric(quiet.report, "process.cpu_usage_cores") < 0.05);
  for (const auto& m : quiet.report["metrics"]) CHECK(m["name"] != "cgroup.cpu_usage_cores");
  auto spinning = diagnose_json({"--pid", std::to_string(busy.pid()), "--window", "2"});
  REQUIRE(spinning.exit_code == 0);
  CHECK(metric(spinning.report, "process.cpu_usage_cores") > 0.3);
}
