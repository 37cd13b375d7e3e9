// Real Redis servers under redis-benchmark load, and real HTTP dependencies on loopback (slow, fast,
// hanging, TLS with a self-signed certificate, refused), started by tests/tools/services.sh.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "harness.hpp"

using namespace cp::test;
using nlohmann::ordered_json;

namespace {

void redis_cli(const std::string& port, std::vector<std::string> args, const std::string& password = "") {
  std::vector<std::string> cmd = {"redis-cli", "-p", port};
  if (!password.empty()) cmd.insert(cmd.end(), {"-a", password, "--no-auth-warning"});
  cmd.insert(cmd.end(), args.begin(), args.end());
  auto r = run(cmd);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

Background benchmark(const std::string& port, const std::string& password, std::vector<std::string> extra) {
  std::vector<std::string> cmd = {"redis-benchmark", "-h", "127.0.0.1", "-p", port, "-q"};
  if (!password.empty()) cmd.insert(cmd.end(), {"-a", password});
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  return Background(cmd);
}

bool any_note(const ordered_json& report, const std::string& text) {
  for (const auto& p : report["probes"])
    for (const auto& n : p["notes"])
      if (n.get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

std::string probe_message(const ordered_json& report, const std::string& target_fragment) {
  for (const auto& p : report["probes"])
    if (p["target"].get<std::string>().find(target_fragment) != std::string::npos) return p["message"];
  return "";
}

}  // namespace

TEST_CASE("redis: a few MB of maxmemory under random reads and writes -> low hit ratio and evictions") {
  std::string port = service("REDIS_SMALL_PORT"), pw = service("REDIS_PASSWORD");
  redis_cli(port, {"FLUSHALL"}, pw);
  auto writes =
      benchmark(port, pw, {"-t", "set", "-r", "1000000", "-d", "200", "-n", "100000000", "-c", "4"});
  auto reads = benchmark(port, pw, {"-t", "get", "-r", "1000000", "-n", "100000000", "-c", "4"});
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto r = diagnose_json({"--redis", service("REDIS_SMALL_URL"), "--window", std::to_string(kWindowS)});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  auto low = findings_of(r.report, "cache.low_hit_ratio");
  REQUIRE(low.size() == 1);
  CHECK(low[0]["evidence"]["hit_ratio"].get<double>() < 0.5);
  auto ev = findings_of(r.report, "cache.evictions");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["evidence"]["maxmemory_policy"] == "allkeys-lru");
  CHECK(r.stdout_text.find(pw) == std::string::npos);
}

TEST_CASE("redis: a healthy, warm cache reports neither") {
  std::string port = service("REDIS_BIG_PORT");
  redis_cli(port, {"FLUSHALL"});
  auto load =
      run({"redis-benchmark", "-h", "127.0.0.1", "-p", port, "-q", "-t", "set", "-r", "1000", "-n", "20000"});
  REQUIRE(load.exit_code == 0);
  auto reads = benchmark(port, "", {"-t", "get", "-r", "1000", "-n", "100000000", "-c", "2"});
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto r = diagnose_json(
      {"--redis", service("REDIS_BIG_URL"), "--window", std::to_string(kWindowS), "--fail-on", "high"});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 0);
  CHECK(findings_of(r.report, "cache.low_hit_ratio").empty());
  CHECK(findings_of(r.report, "cache.evictions").empty());
  CHECK(r.report["verdict"]["category"] == "none");
}

TEST_CASE("redis: KEYS * over a large keyspace lands in the slow log, named as KEYS") {
  std::string port = service("REDIS_BIG_PORT");
  redis_cli(port, {"FLUSHALL"});
  auto fill = run({"redis-benchmark", "-h", "127.0.0.1", "-p", port, "-q", "-t", "set", "-r", "300000", "-n",
                   "600000", "-P", "64"});
  REQUIRE(fill.exit_code == 0);
  Background keys(
      {"sh", "-c",
       "for i in 1 2 3 4 5 6 7 8; do redis-cli -p " + port + " KEYS '*' >/dev/null; sleep 0.5; done"});
  auto r = diagnose_json({"--redis", service("REDIS_BIG_URL"), "--window", std::to_string(kWindowS)});
  CHECK(r.schema_errors.empty());
  auto slow = findings_of(r.report, "cache.slow_commands");
  REQUIRE(slow.size() >= 1);
  CHECK(slow[0]["evidence"]["command"] == "KEYS");
  CHECK(r.report["verdict"]["category"] == "database");
  redis_cli(port, {"FLUSHALL"});
}

TEST_CASE("redis: ACL user and password from the URL, a wrong password is an actionable error") {
  auto ok = diagnose_json({"--redis", service("REDIS_ACL_URL"), "--window", "1"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.report["probes"][0]["status"] == "ok");
  std::string bad = "redis://app:Wrong-Pass-77@127.0.0.1:" + service("REDIS_SMALL_PORT") + "/0";
  auto r = diagnose_json({"--redis", bad, "--window", "1"});
  CHECK(r.exit_code == 3);
  CHECK(r.report["probes"][0]["message"].get<std::string>().find("authentication failed") !=
        std::string::npos);
  CHECK(r.stdout_text.find("Wrong-Pass-77") == std::string::npos);
  CHECK(r.stderr_text.find("Wrong-Pass-77") == std::string::npos);
}

TEST_CASE("http: a ~400 ms dependency next to a ~1 ms one -> network, naming the slow URL only") {
  std::string slow = service("HTTP_BASE") + "/slow?ms=400", fast = service("HTTP_BASE") + "/fast";
  auto r = diagnose_json({"--http", slow, "--http", fast, "--window", std::to_string(kWindowS)});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "network");
  auto found = findings_of(r.report, "net.slow_external_call");
  REQUIRE(found.size() == 1);
  // Query values never leave chokepoint (they may be credentials); the parameter name stays.
  CHECK(found[0]["evidence"]["url"] == service("HTTP_BASE") + "/slow?ms=***");
  CHECK(found[0]["evidence"]["p95_ms"].get<double>() > 350);
}

TEST_CASE("http: refused, DNS failure and timeout are each named, the report still comes out") {
  std::string config = temp_path("http.toml");
  REQUIRE(run({"sh", "-c", "printf '[probes.http]\\ntimeout_ms = 800\\nrate_per_s = 5\\n' > " + config})
              .exit_code == 0);
  auto r = diagnose_json({"--config", config, "--http", service("HTTP_REFUSED"), "--http",
                          "http://no-such-host.invalid/x", "--http", service("HTTP_BASE") + "/hang", "--http",
                          service("HTTP_BASE") + "/flaky?every=3", "--window", "4"});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 3);  // three targets could not be measured at all
  CHECK(probe_message(r.report, service("HTTP_REFUSED")).find("connection refused") != std::string::npos);
  CHECK(probe_message(r.report, "no-such-host").find("DNS lookup failed") != std::string::npos);
  CHECK(probe_message(r.report, "/hang").find("timed out") != std::string::npos);
  // The flaky one answered: measured, with its 503s counted.
  auto errors = findings_of(r.report, "net.external_errors");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["evidence"]["server_errors"].get<double>() > 0);
  auto flaky_only =
      diagnose_json({"--config", config, "--http", service("HTTP_BASE") + "/flaky?every=3", "--window", "4"});
  CHECK(flaky_only.exit_code == 0);
}

TEST_CASE("http: TLS with a self-signed certificate: named when unverifiable, measured with its CA") {
  std::string url = service("HTTPS_BASE") + "/fast";
  auto refused = diagnose_json({"--http", url, "--window", "1"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.report["probes"][0]["message"].get<std::string>().find("TLS failed") != std::string::npos);
  auto trusted =
      run({"env", "CHOKEPOINT_CA_FILE=" + service("HTTP_CA_FILE"), chokepoint_bin(), "diagnose", "--http",
           url, "--window", "2", "--format", "json", "--save-evidence", temp_path("tls.evidence.json")});
  CHECK(trusted.exit_code == 0);
  auto doc = ordered_json::parse(trusted.out);
  CHECK(doc["probes"][0]["status"] == "ok");
  CHECK(doc["verdict"]["category"] == "none");
}
