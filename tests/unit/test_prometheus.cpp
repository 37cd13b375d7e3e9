// The --prometheus probe's pure parts: selectors, PromQL, times, the API's answers, and the
// judgement of a fleet from aggregated results (each instance by the direct probe's rules).
#include <doctest/doctest.h>

#include <algorithm>

#include "core/error.hpp"
#include "harness.hpp"
#include "probes/prometheus/api.hpp"
#include "probes/prometheus/queries.hpp"
#include "probes/prometheus/rules.hpp"
#include "util/time.hpp"

namespace prometheus_test {

using namespace cp;
using namespace cp::prom;

QueryResult result(const std::string& id, std::vector<Sample> samples) {
  QueryResult q;
  q.id = id;
  q.expr = "(test)";
  q.status = "ok";
  q.result = std::move(samples);
  return q;
}

Sample pod(const std::string& name, double v) {
  return {{{"namespace", "shop"}, {"pod", name}, {"container", "app"}}, v};
}

Sample inst(const std::string& instance, double v, std::map<std::string, std::string> more = {}) {
  more["instance"] = instance;
  return {more, v};
}

// Two minutes of a small fleet: one throttled pod, one at its memory limit with OOM kills, one
// healthy; a Redis that misses most lookups; a PostgreSQL near max_connections.
Snapshot small_fleet() {
  Snapshot s;
  s.source = "http://prom:9090";
  s.at = 1765159200;
  s.range_s = 120;
  s.requests = 12;
  s.queries = {
      result("container.cpu_usage_seconds",
             {pod("checkout-1", 59), pod("search-1", 10), pod("cart-1", 12)}),
      result("container.cpu_periods", {pod("checkout-1", 1200), pod("search-1", 1200), pod("cart-1", 1200)}),
      result("container.cpu_throttled_periods", {pod("checkout-1", 660), pod("search-1", 0), pod("cart-1", 12)}),
      result("container.cpu_throttled_seconds", {pod("checkout-1", 30), pod("search-1", 0), pod("cart-1", 0.2)}),
      result("container.cpu_quota", {pod("checkout-1", 50000), pod("search-1", 100000), pod("cart-1", 200000)}),
      result("container.cpu_period", {pod("checkout-1", 100000), pod("search-1", 100000), pod("cart-1", 100000)}),
      result("container.memory_working_set",
             {pod("checkout-1", 100e6), pod("search-1", 520e6), pod("cart-1", 90e6)}),
      result("container.memory_limit", {pod("checkout-1", 536870912), pod("search-1", 536870912), pod("cart-1", 0)}),
      result("container.oom_events", {pod("checkout-1", 0), pod("search-1", 3), pod("cart-1", 0)}),
      result("redis.commands", {inst("10.0.0.9:6379", 24000)}),
      result("redis.hits", {inst("10.0.0.9:6379", 200)}),
      result("redis.misses", {inst("10.0.0.9:6379", 11800)}),
      result("postgres.up", {inst("10.0.0.7:9187", 1)}),
      result("postgres.max_connections", {inst("10.0.0.7:9187", 100)}),
      result("postgres.reserved_connections", {inst("10.0.0.7:9187", 3)}),
      result("postgres.sessions", {inst("10.0.0.7:9187", 90, {{"state", "idle"}}),
                                   inst("10.0.0.7:9187", 5, {{"state", "active"}})}),
  };
  return s;
}

std::vector<Finding> of_rule(const Judgement& j, const std::string& rule) {
  std::vector<Finding> out;
  for (const auto& f : j.findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

TEST_CASE("--match selectors: the matchers in braces, a metric name or broken braces refused") {
  CHECK(matchers_of("{namespace=\"shop\"}") == "namespace=\"shop\"");
  CHECK(matchers_of(" {namespace=~\"shop|cart\", pod!=\"x\",} ") == "namespace=~\"shop|cart\", pod!=\"x\"");
  CHECK(matchers_of("{}").empty());
  CHECK(matchers_of("{app=\"a}b\"}") == "app=\"a}b\"");
  CHECK_THROWS_AS(matchers_of("up{job=\"x\"}"), UsageError);
  CHECK_THROWS_AS(matchers_of("{job=\"x\"} or {a=\"b\"}"), UsageError);
  CHECK_THROWS_AS(matchers_of("{job=\"x}"), UsageError);
}

TEST_CASE("PromQL is scoped by the matchers and aggregated over the range, per instance") {
  const QuerySpec* periods = nullptr;
  const QuerySpec* hits = nullptr;
  for (const auto& q : query_catalog()) {
    if (q.id == "container.cpu_periods") periods = &q;
    if (q.id == "redis.hits") hits = &q;
  }
  REQUIRE(periods);
  REQUIRE(hits);
  CHECK(render_query(*periods, "container_cpu_cfs_periods_total", "namespace=\"shop\"", 300) ==
        "sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{container!=\"\","
        "container!=\"POD\",namespace=\"shop\"}[300s]))");
  CHECK(render_query(*hits, "redis_keyspace_hits_total", "", 60) ==
        "sum by (instance) (increase(redis_keyspace_hits_total{}[60s]))");
  // Older exporters' names are used when the newer one is missing.
  CHECK(pick_name(*hits, {"redis_keyspace_hits"}) == "redis_keyspace_hits");
  CHECK(pick_name(*hits, {"redis_keyspace_hits", "redis_keyspace_hits_total"}) == "redis_keyspace_hits_total");
  CHECK(pick_name(*hits, {"up"}).empty());
}

TEST_CASE("--at times: unix seconds and RFC 3339 with an offset, anything else refused") {
  CHECK(parse_time("1765159200") == doctest::Approx(1765159200));
  CHECK(parse_time("1765159200.5") == doctest::Approx(1765159200.5));
  CHECK(parse_time("2025-12-08T02:00:00Z") == doctest::Approx(1765159200));
  CHECK(parse_time("2025-12-08T03:00:00.25+01:00") == doctest::Approx(1765159200.25));
  CHECK(rfc3339_utc(1765159200.0) == "2025-12-08T02:00:00Z");
  for (const char* bad : {"", "yesterday", "2025-12-08", "2025-13-08T02:00:00Z", "2025-12-08T02:00:00", "-5",
                          "0x10", "2025-12-08T02:00:00+1:00"})
    CHECK_MESSAGE(!parse_time(bad), bad);
}

TEST_CASE("the query API's answers: vectors, NaN left out, the engine's error and warnings kept") {
  QueryResult ok;
  read_query_answer({200,
                     R"({"status":"success","warnings":["partial response"],"data":{"resultType":"vector",)"
                     R"("result":[{"metric":{"instance":"a"},"value":[1,"2.5"]},)"
                     R"({"metric":{"instance":"b"},"value":[1,"NaN"]}]}})",
                     ""},
                    ok);
  CHECK(ok.status == "ok");
  REQUIRE(ok.result.size() == 1);
  CHECK(ok.result[0].labels.at("instance") == "a");
  CHECK(ok.result[0].value == 2.5);
  CHECK(ok.warnings == std::vector<std::string>{"partial response"});

  QueryResult bad;
  read_query_answer({422, R"({"status":"error","errorType":"execution","error":"many-to-many matching"})", ""},
                    bad);
  CHECK(bad.status == "error");
  CHECK(bad.error == "HTTP 422: many-to-many matching");

  QueryResult refused;
  read_query_answer({0, "", "Couldn't connect to server"}, refused);
  CHECK(refused.error == "Couldn't connect to server");

  QueryResult html;
  read_query_answer({200, "<html>login</html>", ""}, html);
  CHECK(html.status == "error");
  CHECK_THROWS_WITH(read_names_answer({401, "no tenant\n", ""}), "HTTP 401: no tenant");
}

TEST_CASE("a fleet is judged per instance by the direct probes' rules, each finding naming its instance") {
  Target t{"prometheus", "--prometheus", {}, "http://prom:9090", {}};
  Judgement j = judge(small_fleet(), t, Settings{});

  auto throttled = of_rule(j, "infra.cpu_throttling");
  REQUIRE(throttled.size() == 1);
  CHECK(throttled[0].target == "pod shop/checkout-1/app");
  CHECK(throttled[0].evidence["throttled_ratio"] == doctest::Approx(0.55));
  CHECK(throttled[0].evidence["limit_cores"] == doctest::Approx(0.5));
  CHECK(throttled[0].evidence["instance_labels"]["pod"] == "checkout-1");

  auto memory = of_rule(j, "infra.memory_pressure");
  REQUIRE(memory.size() == 1);
  CHECK(memory[0].target == "pod shop/search-1/app");
  CHECK(memory[0].evidence["oom_kills"] == 3);

  auto cache = of_rule(j, "cache.low_hit_ratio");
  REQUIRE(cache.size() == 1);
  CHECK(cache[0].target == "redis 10.0.0.9:6379");
  CHECK(cache[0].component == "redis:10.0.0.9:6379");

  auto conns = of_rule(j, "db.pool_saturation");
  REQUIRE(conns.size() == 1);
  CHECK(conns[0].target == "postgres 10.0.0.7:9187");
  CHECK(conns[0].evidence["connections_peak"] == 95);

  // The healthy pod is examined and has no finding.
  for (const auto& f : j.findings) CHECK(f.target != "pod shop/cart-1/app");
  REQUIRE(j.fleet);
  CHECK(j.fleet->instances.size() == 5);
  CHECK(j.fleet->queries == 12);
  // node_exporter sent nothing: said, not silently healthy.
  CHECK(std::any_of(j.fleet->not_examined.begin(), j.fleet->not_examined.end(),
                    [](const std::string& n) { return n.rfind("host: no node_exporter", 0) == 0; }));
  // Finding ids differ between instances of one rule.
  auto ids = std::set<std::string>();
  for (const auto& f : j.findings) CHECK(ids.insert(f.id).second);
}

TEST_CASE("span metrics are found and said not judged, not passed over in silence") {
  Snapshot s = small_fleet();
  s.names = {"container_cpu_usage_seconds_total", "traces_spanmetrics_calls_total"};
  Target t{"prometheus", "--prometheus", {}, "http://prom:9090", {}};
  Judgement j = judge(s, t, Settings{});
  REQUIRE(j.fleet);
  CHECK(std::any_of(j.fleet->not_examined.begin(), j.fleet->not_examined.end(), [](const std::string& n) {
    return n.find("span metrics (traces_spanmetrics_calls_total) exist but are not judged") != std::string::npos;
  }));
}

TEST_CASE("a failed query becomes a note naming it, the rest is judged") {
  Snapshot s = small_fleet();
  QueryResult failed;
  failed.id = "container.oom_events";
  failed.expr = "sum by (…)";
  failed.status = "error";
  failed.error = "HTTP 503: overloaded";
  s.queries.push_back(failed);
  Target t{"prometheus", "--prometheus", {}, "http://prom:9090", {}};
  Judgement j = judge(s, t, Settings{});
  CHECK(std::any_of(j.notes.begin(), j.notes.end(), [](const std::string& n) {
    return n.find("container.oom_events could not be judged: HTTP 503: overloaded") != std::string::npos;
  }));
  CHECK(of_rule(j, "infra.cpu_throttling").size() == 1);
}

TEST_CASE("the CLI: fleet modifiers need --prometheus, bad values are usage errors, headers stay secret") {
  auto no_target = test::run({test::chokepoint_bin(), "diagnose", "--match", "{namespace=\"shop\"}"});
  CHECK(no_target.exit_code == 2);
  CHECK(no_target.err.find("--match applies to prometheus targets") != std::string::npos);
  auto bad_at = test::run({test::chokepoint_bin(), "diagnose", "--prometheus", "http://127.0.0.1:1", "--at",
                           "last tuesday"});
  CHECK(bad_at.exit_code == 2);
  CHECK(bad_at.err.find("--at: expected RFC 3339") != std::string::npos);
  auto bad_header = test::run(
      {test::chokepoint_bin(), "diagnose", "--prometheus", "http://127.0.0.1:1", "--prometheus-header", "tenant"});
  CHECK(bad_header.exit_code == 2);

  int port = test::free_port();  // nothing listens: the fleet source cannot be queried
  auto refused = test::run({test::chokepoint_bin(), "diagnose", "--prometheus",
                            "http://reader:pa55-w0rd-x@127.0.0.1:" + std::to_string(port) + "/prometheus",
                            "--prometheus-header", "Authorization: Bearer s3cr3t-t0ken", "--at", "1765159200",
                            "--format", "json"});
  CHECK(refused.exit_code == 3);
  for (const auto& text : {refused.out, refused.err}) {
    CHECK(text.find("s3cr3t-t0ken") == std::string::npos);
    CHECK(text.find("pa55-w0rd-x") == std::string::npos);
  }
  CHECK(refused.out.find("did not list its metrics") != std::string::npos);
}

}  // namespace prometheus_test
