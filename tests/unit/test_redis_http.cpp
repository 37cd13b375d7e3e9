// Redis and HTTP rules on snapshots; URL parsing and redaction.
#include <doctest/doctest.h>

#include "probes/http/rules.hpp"
#include "probes/probe.hpp"
#include "probes/redis/rules.hpp"
#include "probes/redis/url.hpp"

using namespace cp;

namespace {

template <typename Snap, typename Judge>
std::vector<Finding> findings(const Snap& s, Judge judge, const std::string& rule, const std::string& name) {
  Target t{"x", "--x", {""}, name, {}};
  std::vector<Finding> out;
  for (auto& f : judge(s, t, Settings{}).findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

redis::Snapshot redis_window(std::map<std::string, std::string> start,
                             std::map<std::string, std::string> end) {
  redis::Snapshot s;
  s.version = "7.0.15";
  s.window_s = 5;
  s.info_start = std::move(start);
  s.info_end = std::move(end);
  s.config = {{"maxclients", "100"}, {"maxmemory", "2097152"}, {"maxmemory-policy", "allkeys-lru"}};
  return s;
}

auto redis_judge = [](const redis::Snapshot& s, const Target& t, const Settings& st) {
  return redis::judge(s, t, st);
};
auto http_judge = [](const http::Snapshot& s, const Target& t, const Settings& st) {
  return http::judge(s, t, st);
};
const std::string kRedisName = "redis://:***@10.0.0.5:6379/0";

}  // namespace

TEST_CASE("redis URLs: user, password, port, db, bad ones named") {
  std::string err;
  auto u = redis::parse_redis_url("redis://app:p%40ss@cache.internal:6380/2", err);
  REQUIRE(u);
  CHECK(u->user == "app");
  CHECK(u->password == "p@ss");
  CHECK(u->host == "cache.internal");
  CHECK(u->port == 6380);
  CHECK(u->db == 2);
  auto bare = redis::parse_redis_url("redis://secret@h", err);
  REQUIRE(bare);
  CHECK(bare->password == "secret");
  CHECK(bare->port == 6379);
  CHECK_FALSE(redis::parse_redis_url("redis://h:port/0", err));
  CHECK_FALSE(redis::parse_redis_url("redis://h/x", err));
  CHECK_FALSE(redis::parse_redis_url("http://h", err));
  CHECK_FALSE(redis::parse_redis_url("rediss://h", err));
  CHECK(err.find("TLS") != std::string::npos);
}

TEST_CASE("redis display names never hold the password, even without a user") {
  const ProbeKind* k = find_probe_kind("redis");
  REQUIRE(k);
  std::vector<std::string> secrets;
  CHECK(k->describe("--redis", {"redis://hunter2pw@h:1/0"}, secrets) == "redis://:***@h:1/0");
  CHECK(k->describe("--redis", {"redis://app:hunter2pw@h/3"}, secrets) == "redis://app:***@h:6379/3");
  CHECK(std::find(secrets.begin(), secrets.end(), "hunter2pw") != secrets.end());
}

TEST_CASE("cache.low_hit_ratio and cache.evictions on a cold, small cache, quiet on a warm one") {
  auto cold = redis_window({{"keyspace_hits", "100"}, {"keyspace_misses", "100"}, {"evicted_keys", "0"}},
                           {{"keyspace_hits", "1100"},
                            {"keyspace_misses", "40100"},
                            {"evicted_keys", "50000"},
                            {"used_memory", "2090000"}});
  auto low = findings(cold, redis_judge, "cache.low_hit_ratio", kRedisName);
  REQUIRE(low.size() == 1);
  CHECK(low[0].evidence["hit_ratio"].get<double>() == doctest::Approx(1000.0 / 41000).epsilon(0.001));
  CHECK(low[0].severity == Severity::high);
  auto ev = findings(cold, redis_judge, "cache.evictions", kRedisName);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].evidence["evictions_per_s"] == 10000);
  CHECK(ev[0].evidence["maxmemory_policy"] == "allkeys-lru");
  CHECK(ev[0].component == "redis:10.0.0.5:6379/0");

  auto warm =
      redis_window({{"keyspace_hits", "0"}, {"keyspace_misses", "0"}},
                   {{"keyspace_hits", "50000"}, {"keyspace_misses", "100"}, {"connected_clients", "5"}});
  CHECK(findings(warm, redis_judge, "cache.low_hit_ratio", kRedisName).empty());
  CHECK(findings(warm, redis_judge, "cache.evictions", kRedisName).empty());
}

TEST_CASE("finding ids survive a port change (CI runs on random ports)") {
  auto cold = redis_window({{"keyspace_hits", "0"}}, {{"keyspace_hits", "10"}, {"keyspace_misses", "9000"}});
  auto a = findings(cold, redis_judge, "cache.low_hit_ratio", "redis://127.0.0.1:40001/0");
  auto b = findings(cold, redis_judge, "cache.low_hit_ratio", "redis://127.0.0.1:50002/0");
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].id == b[0].id);
}

TEST_CASE("cache.slow_commands names the command, never its arguments, clients and fragmentation") {
  auto s = redis_window({}, {{"connected_clients", "95"},
                             {"used_memory", "26000000"},
                             {"used_memory_rss", "60000000"},
                             {"mem_fragmentation_ratio", "2.31"}});
  s.slowlog = {{"KEYS", 87000}, {"KEYS", 91000}, {"HGETALL", 15000}};
  auto slow = findings(s, redis_judge, "cache.slow_commands", kRedisName);
  REQUIRE(slow.size() == 2);
  auto keys = std::find_if(slow.begin(), slow.end(),
                           [](const Finding& f) { return f.evidence["command"] == "KEYS"; });
  REQUIRE(keys != slow.end());
  CHECK(keys->evidence["calls"] == 2);
  CHECK(keys->severity == Severity::high);
  CHECK(keys->remediation.summary.find("SCAN") != std::string::npos);
  auto clients = findings(s, redis_judge, "cache.clients_saturation", kRedisName);
  REQUIRE(clients.size() == 1);
  CHECK(clients[0].evidence["clients_usage"] == 0.95);
  CHECK(findings(s, redis_judge, "cache.memory_fragmentation", kRedisName).size() == 1);
  // MEMORY DOCTOR ignores small instances.
  s.info_end["used_memory"] = "1000000";
  s.info_end["used_memory_rss"] = "30000000";
  CHECK(findings(s, redis_judge, "cache.memory_fragmentation", kRedisName).empty());
}

namespace {
http::Snapshot http_snapshot(double reused_ms, double fresh_setup_ms, int failures = 0,
                             const std::string& kind = "") {
  http::Snapshot s;
  s.url = "https://api.example.com/v1/charges";
  s.endpoint = "api.example.com/v1/charges";
  s.host = "api.example.com";
  s.window_s = 10;
  s.rate_per_s = 2;
  s.timeout_ms = 5000;
  for (int i = 0; i < 20; ++i) {
    http::Sample x;
    x.reused = i % 2 == 1;
    x.dns_ms = x.reused ? 0 : fresh_setup_ms * 0.2;
    x.tcp_ms = x.reused ? 0 : fresh_setup_ms * 0.3;
    x.tls_ms = x.reused ? 0 : fresh_setup_ms * 0.5;
    x.ttfb_ms = reused_ms + x.dns_ms + x.tcp_ms + x.tls_ms;
    x.total_ms = x.ttfb_ms + 0.2;
    x.status = 200;
    if (i < failures) {
      x.status = kind.empty() ? 503 : 0;
      x.error = kind;
    }
    s.samples.push_back(x);
  }
  return s;
}
}  // namespace

TEST_CASE("net.slow_external_call from the HTTP probe: p95 over the reused connection, a fast one is quiet") {
  auto slow = findings(http_snapshot(400, 1), http_judge, "net.slow_external_call",
                       "https://api.example.com/v1/charges");
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].evidence["url"] == "https://api.example.com/v1/charges");
  CHECK(slow[0].evidence["p95_ms"].get<double>() == doctest::Approx(400.2).epsilon(0.02));
  CHECK(slow[0].severity == Severity::high);
  CHECK(findings(http_snapshot(1, 0.5), http_judge, "net.slow_external_call", "x").empty());
}

TEST_CASE("net.connect_overhead: fresh connections cost the set-up, measured against reused ones") {
  auto f = findings(http_snapshot(10, 90), http_judge, "net.connect_overhead", "x");
  REQUIRE(f.size() == 1);
  CHECK(f[0].evidence["setup_ms"].get<double>() == doctest::Approx(90).epsilon(0.02));
  CHECK(f[0].evidence["tls_ms"].get<double>() == doctest::Approx(45).epsilon(0.02));
  CHECK(f[0].evidence["reused_p50_ms"].get<double>() == doctest::Approx(10.2).epsilon(0.02));
  CHECK(
      findings(http_snapshot(10, 2), http_judge, "net.connect_overhead", "x").empty());  // 2 ms: not worth it
}

TEST_CASE("net.external_errors counts 5xx and timeouts by kind") {
  auto e = findings(http_snapshot(5, 1, 6), http_judge, "net.external_errors", "x");
  REQUIRE(e.size() == 1);
  CHECK(e[0].evidence["server_errors"] == 6);
  CHECK(e[0].evidence["error_rate"] == 0.3);
  auto t = findings(http_snapshot(5, 1, 4, "timeout"), http_judge, "net.external_errors", "x");
  REQUIRE(t.size() == 1);
  CHECK(t[0].evidence["timeouts"] == 4);
  CHECK(t[0].title.find("4 timed out") != std::string::npos);
}
