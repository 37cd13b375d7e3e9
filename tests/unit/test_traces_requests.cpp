// One tree per trace across services, the critical path of each end-user request, and the
// patterns judged on it — from small traces built here, one shape each (the recorded workload
// captures of tests/workloads/node are asserted on in test_traces_captures.cpp).
#include <doctest/doctest.h>

#include <set>

#include <fmt/format.h>

#include "harness.hpp"
#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"
#include "traces_support.hpp"

using namespace cp;
using test::kClient;
using test::kInternal;
using test::kProducer;
using test::kServer;
using test::otlp_spans;
using test::TSpan;

// This file's names (cp::traces's among them) stay in it when a unity build compiles
// it together with other tests.
namespace test_traces_requests {

using namespace cp::traces;

namespace {

// `requests` traces of one shape, each built by `make(trace, first_id)`.
Snapshot requests_of(int requests, const std::function<std::vector<TSpan>(int)>& make) {
  std::vector<std::string> docs;
  for (int t = 1; t <= requests; ++t) docs.push_back(otlp_spans(make(t), t));
  return test::assemble_docs(docs);
}

using test::judge_traces;
using test::trace_findings;

const Route& route(const Snapshot& s, const std::string& name) {
  for (const auto& r : s.routes)
    if (r.route == name) return r;
  FAIL("no route " << name);
  return s.routes.front();
}

// A third-party call: 10 of them per request, `width` in flight at once (1 = one after another);
// to one endpoint with an id each (/quote/7), or to one endpoint per carrier (/quote/dhl-express).
std::vector<TSpan> fan_out(int width, bool ids = true) {
  std::vector<TSpan> spans = {
      {"1", "", "GET /quotes", "frontend", kServer, 0, 0, {{"http.route", "/quotes"}}}};
  double end = 0;
  for (int i = 0; i < 10; ++i) {
    double start = 2 + (i / width) * 32.0;
    spans.push_back(
        {fmt::format("{:x}", 0x100 + i),
         "1",
         "GET",
         "frontend",
         kClient,
         start,
         30,
         {{"http.url", ids ? fmt::format("http://quotes.example:8080/quote/{}", i)
                           : fmt::format("http://quotes.example:8080/quote/carrier-{:c}", 'a' + i)},
          {"http.method", "GET"}}});
    end = std::max(end, start + 30);
  }
  spans[0].dur_ms = end + 2;
  return spans;
}

// Every finding's time per request stays within its route's p99.
void check_within_p99(const Snapshot& s) {
  for (const auto& f : judge_traces(s).findings) {
    if (!f.evidence.contains("time_per_request_ms") || !f.evidence.contains("route")) continue;
    for (const auto& r : s.routes)
      if (r.route == f.evidence["route"] && r.service == f.evidence.value("entry_service", r.service)) {
        CAPTURE(f.title);
        CHECK(f.evidence["time_per_request_ms"].get<double>() <= r.latency.p99 * 1.001);
      }
  }
}

}  // namespace

TEST_CASE("must hold: the same ten calls, serial and concurrent, get different answers") {
  auto serial = requests_of(20, [](int) { return fan_out(1); });
  // A fan-out to one dependency whose calls differ by more than an id (a carrier each).
  auto capped = requests_of(20, [](int) { return fan_out(3, false); });
  auto unbounded = requests_of(20, [](int) { return fan_out(10, false); });

  auto s = trace_findings(serial, "net.repeated_external_call");
  REQUIRE(s.size() == 1);
  CHECK(s[0].evidence["shape"] == "serial");
  CHECK(s[0].evidence["host"] == "quotes.example:8080");
  CHECK(s[0].evidence["time_per_request_ms"].get<double>() == doctest::Approx(300).epsilon(0.01));

  CHECK(trace_findings(serial, "net.capped_concurrency").empty());

  CHECK(trace_findings(capped, "net.repeated_external_call").empty());
  CHECK(trace_findings(capped, "net.sequential_external_calls").empty());
  auto c = trace_findings(capped, "net.capped_concurrency");
  REQUIRE(c.size() == 1);
  CHECK(c[0].evidence["concurrency"] == 3);
  CHECK(c[0].evidence["host"] == "quotes.example:8080");
  // Wall time on the critical path (4 rounds of 30 ms), not the 300 ms the durations add up to.
  CHECK(c[0].evidence["time_per_request_ms"].get<double>() == doctest::Approx(4 * 30).epsilon(0.05));
  CHECK(c[0].evidence["summed_ms_per_request"].get<double>() == doctest::Approx(300).epsilon(0.01));
  CHECK(c[0].title.find("at most 3 at a time") != std::string::npos);

  CHECK(trace_findings(unbounded, "net.capped_concurrency").empty());
  CHECK(trace_findings(unbounded, "net.repeated_external_call").empty());
  CHECK(route(unbounded, "/quotes").external_ms / 20 == doctest::Approx(30).epsilon(0.02));
  for (const auto* snap : {&serial, &capped, &unbounded}) check_within_p99(*snap);
}

TEST_CASE("#22: calls to one endpoint that differ only by an id are an N+1 API call, serial or concurrent") {
  for (int width : {3, 10}) {
    CAPTURE(width);
    auto snap = requests_of(20, [&](int) { return fan_out(width); });
    auto n1 = trace_findings(snap, "net.repeated_external_call");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0].evidence["call"] == "GET quotes.example:8080/quote/{id}");
    CHECK(n1[0].evidence["distinct_urls"] == 10);
    CHECK(n1[0].evidence["shape"] == (width == 3 ? "capped" : "concurrent"));
    CHECK(n1[0].title.find("N+1 API call") != std::string::npos);
    // The fix is a batch, not more concurrency: no capped-concurrency finding for it.
    CHECK(trace_findings(snap, "net.capped_concurrency").empty());
    check_within_p99(snap);
  }
}

TEST_CASE("must hold: an N+1 whose parent span is missing is found, under a stand-in for the parent") {
  auto snap = requests_of(10, [](int) {
    std::vector<TSpan> spans = {
        {"1", "", "GET /orders", "shop", kServer, 0, 120, {{"http.route", "/orders"}}}};
    for (int i = 0; i < 20; ++i)  // the handler span "99" that parents them never arrived
      spans.push_back({fmt::format("{:x}", 0x200 + i),
                       "99",
                       "pg.query",
                       "shop",
                       kClient,
                       10 + i * 5.0,
                       4,
                       {{"db.system", "postgresql"},
                        {"db.statement", fmt::format("SELECT * FROM items WHERE id = {}", i)}}});
    return spans;
  });
  CHECK(snap.orphans == 200);
  CHECK(snap.orphan_groups == 10);
  auto n1 = trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["query"] == "SELECT * FROM items WHERE id = $1");
  CHECK(n1[0].evidence["repetitions_per_request"] == 20);
  CHECK(n1[0].evidence["parent"] == "(missing span)");
  CHECK(n1[0].evidence["route"] == "/orders");
  check_within_p99(snap);
}

TEST_CASE(
    "must hold: a CPU-bound callee makes it code, in that service, and one waiting on its database makes it "
    "database") {
  auto callee = [](bool db_wait) {
    return [db_wait](int) {
      std::vector<TSpan> spans = {
          {"1", "", "GET /price", "frontend", kServer, 0, 210, {{"http.route", "/price"}}},
          {"2", "1", "GET", "frontend", kClient, 5, 200, {{"http.url", "http://pricing:9000/compute"}}},
          {"3", "2", "GET /compute", "pricing", kServer, 7, 196, {{"http.route", "/compute"}}},
      };
      if (db_wait)
        spans.push_back({"4",
                         "3",
                         "pg.query",
                         "pricing",
                         kClient,
                         9,
                         190,
                         {{"db.system", "postgresql"}, {"db.statement", "SELECT pg_sleep($1)"}}});
      return spans;
    };
  };
  auto cpu = requests_of(20, callee(false));
  auto r = route(cpu, "/price");
  CHECK(r.code_ms / r.request_ms > 0.9);
  CHECK(r.external_ms == 0);
  auto code = trace_findings(cpu, "code.self_time_hotspot");
  REQUIRE(code.size() == 1);
  CHECK(code[0].evidence["service"] == "pricing");
  CHECK(code[0].evidence["span"] == "GET /compute");
  CHECK(code[0].component == "traces:pricing");
  CHECK(
      trace_findings(cpu, "net.slow_external_call").empty());  // the callee is in the trace: not a dependency
  CHECK(judge_traces(cpu).attribution.at(Category::code) > 0.9);

  auto db = requests_of(20, callee(true));
  auto j = judge_traces(db);
  CHECK(j.attribution.at(Category::database) > 0.85);
  CHECK(trace_findings(db, "code.self_time_hotspot").empty());
  CHECK(trace_findings(db, "net.slow_external_call").empty());
  // The time is counted once: critical paths add up to the requests' duration.
  auto rd = route(db, "/price");
  CHECK(rd.database_ms + rd.cache_ms + rd.external_ms + rd.network_ms + rd.code_ms ==
        doctest::Approx(rd.request_ms).epsilon(0.001));
  bool pricing_detail = false;
  for (const auto& svc : rd.services) pricing_detail |= svc.service == "pricing" && svc.database_ms > 0;
  CHECK(pricing_detail);
}

TEST_CASE("must hold: a proxy timeout names the service under the proxy") {
  auto snap = requests_of(20, [](int) {
    return std::vector<TSpan>{
        {"1",
         "",
         "GET /report",
         "edge-proxy",
         kServer,
         0,
         1000,
         {{"http.route", "/report"}, {"http.status_code", "504"}}},
        {"2", "1", "GET", "edge-proxy", kClient, 1, 999, {{"http.url", "http://reports:7000/report"}}, true},
        {"3", "2", "GET /report", "reports", kServer, 3, 2500, {{"http.route", "/report"}}},
        {"4", "3", "render", "reports", kInternal, 5, 2490},
    };
  });
  // The proxy gave up (the messenger): no finding blames its call; the time is where it went.
  CHECK(trace_findings(snap, "net.external_errors").empty());
  CHECK(snap.externals.size() == 1);
  CHECK(snap.externals[0].consumed_by == "reports/render");
  REQUIRE(route(snap, "/report").timeouts.size() >= 1);
  CHECK(route(snap, "/report").timeouts[0].locus_service == "reports");
  auto code = trace_findings(snap, "code.self_time_hotspot");
  REQUIRE(code.size() == 1);
  CHECK(code[0].evidence["service"] == "reports");
  CHECK(code[0].evidence["span"] == "render");
  check_within_p99(snap);
}

TEST_CASE("thresholds relative to the request: 30 statements taking most of a 50 ms request are an N+1") {
  auto snap = requests_of(10, [](int) {
    std::vector<TSpan> spans = {{"1", "", "GET /tags", "api", kServer, 0, 50, {{"http.route", "/tags"}}}};
    for (int i = 0; i < 30; ++i)
      spans.push_back({fmt::format("{:x}", 0x300 + i),
                       "1",
                       "SELECT",
                       "api",
                       kClient,
                       2 + i * 1.5,
                       1.4,
                       {{"db.system", "mysql"}, {"db.statement", "SELECT name FROM tags WHERE id = ?"}}});
    return spans;
  });
  auto n1 = trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["time_per_request_ms"].get<double>() < 50);
  CHECK(n1[0].evidence["request_share"].get<double>() > 0.8);
  CHECK(n1[0].severity == Severity::critical);
}

TEST_CASE(
    "a Redis GET per id in a loop is a cache N+1, and the same key read again is a repeated identical call") {
  auto snap = requests_of(10, [](int) {
    std::vector<TSpan> spans = {{"1", "", "GET /feed", "api", kServer, 0, 130, {{"http.route", "/feed"}}}};
    for (int i = 0; i < 25; ++i)
      spans.push_back({fmt::format("{:x}", 0x400 + i),
                       "1",
                       "get",
                       "api",
                       kClient,
                       2 + i * 5.0,
                       4.5,
                       {{"db.system", "redis"}, {"db.statement", fmt::format("get user:{}", i)}}});
    return spans;
  });
  auto n1 = trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["datastore"] == "redis");
  CHECK(n1[0].title.find("Cache N+1") != std::string::npos);
  CHECK(trace_findings(snap, "db.repeated_identical_query").empty());  // 25 different keys

  auto same = requests_of(10, [](int) {
    std::vector<TSpan> spans = {{"1", "", "GET /me", "api", kServer, 0, 60, {{"http.route", "/me"}}}};
    for (int i = 0; i < 6; ++i)
      spans.push_back(
          {fmt::format("{:x}", 0x500 + i),
           "1",
           "pg.query",
           "api",
           kClient,
           2 + i * 9.0,
           8,
           {{"db.system", "postgresql"}, {"db.statement", "SELECT * FROM accounts WHERE id = 7"}}});
    return spans;
  });
  auto identical = trace_findings(same, "db.repeated_identical_query");
  REQUIRE(identical.size() == 1);
  CHECK(identical[0].evidence["repetitions_per_request"] == 6);
  CHECK(identical[0].evidence["saved_per_request_ms"].get<double>() == doctest::Approx(40).epsilon(0.01));
  check_within_p99(same);
}

TEST_CASE("Zipkin shared spans: the server half is under the client half, its children are the server's") {
  // zipkin-js: the client and the server report one id; the server's query names that id as parent.
  std::string doc = R"([
    {"traceId":"00000000000000a1","id":"0000000000000001","name":"get /cart","kind":"SERVER","timestamp":1000000,
     "duration":100000,"localEndpoint":{"serviceName":"web"},"tags":{"http.route":"/cart"}},
    {"traceId":"00000000000000a1","id":"0000000000000002","parentId":"0000000000000001","name":"get","kind":"CLIENT",
     "timestamp":1005000,"duration":90000,"localEndpoint":{"serviceName":"web"},"remoteEndpoint":{"serviceName":"cart"}},
    {"traceId":"00000000000000a1","id":"0000000000000002","parentId":"0000000000000001","name":"get /items","kind":"SERVER",
     "timestamp":1010000,"duration":80000,"shared":true,"localEndpoint":{"serviceName":"cart"}},
    {"traceId":"00000000000000a1","id":"0000000000000003","parentId":"0000000000000002","name":"query","kind":"CLIENT",
     "timestamp":1012000,"duration":75000,"localEndpoint":{"serviceName":"cart"},"remoteEndpoint":{"serviceName":"postgres"},
     "tags":{"sql.query":"SELECT * FROM cart_items WHERE cart_id = ?"}},
    {"traceId":"00000000000000a1","id":"0000000000000004","parentId":"0000000000000001","name":"untimed","kind":"CLIENT",
     "localEndpoint":{"serviceName":"web"}}
  ])";
  auto snap = test::assemble_docs({doc});
  CHECK(snap.shared_merged == 1);
  CHECK(snap.duplicates == 0);
  CHECK(snap.untimed == 1);
  CHECK(snap.requests == 1);
  REQUIRE(snap.routes.size() == 1);
  const Route& r = snap.routes[0];
  CHECK(r.route == "/cart");
  CHECK(r.database_ms == doctest::Approx(75));
  CHECK(r.network_ms == doctest::Approx(10));  // 5 ms before the server half started, 5 after it ended
  CHECK(r.code_ms == doctest::Approx(15));     // web 10, cart 5
  auto notes = judge_traces(snap).notes;
  CHECK(std::any_of(notes.begin(), notes.end(),
                    [](auto& n) { return n.find("no start or no duration") != std::string::npos; }));
}

TEST_CASE("dependencies are named by host:port or peer.service, never by the span's name or method") {
  auto snap = requests_of(5, [](int) {
    return std::vector<TSpan>{
        {"1", "", "GET /a", "api", kServer, 0, 400, {{"http.route", "/a"}}},
        {"2",
         "1",
         "GetDriver",
         "api",
         kClient,
         1,
         300,
         {{"rpc.system", "grpc"}, {"server.address", "drivers.internal"}, {"server.port", "50051"}}},
        {"3", "1", "get", "api", kClient, 302, 90, {{"peer.service", "billing"}}},
    };
  });
  std::set<std::string> hosts;
  for (const auto& e : snap.externals) hosts.insert(e.host);
  CHECK(hosts == std::set<std::string>{"drivers.internal:50051", "billing"});
}

TEST_CASE("an untimed span is left out, its children hang under the nearest timed ancestor (not orphans)") {
  std::string doc = R"([
    {"traceId":"00000000000000b1","id":"0000000000000001","name":"get /a","kind":"SERVER","timestamp":1000000,
     "duration":100000,"localEndpoint":{"serviceName":"web"}},
    {"traceId":"00000000000000b1","id":"0000000000000002","parentId":"0000000000000001","name":"get","kind":"CLIENT",
     "localEndpoint":{"serviceName":"web"}},
    {"traceId":"00000000000000b1","id":"0000000000000003","parentId":"0000000000000002","name":"get /b","kind":"SERVER",
     "timestamp":1010000,"duration":80000,"localEndpoint":{"serviceName":"api"}}
  ])";
  auto snap = test::assemble_docs({doc});
  CHECK(snap.untimed == 1);
  CHECK(snap.orphans == 0);
  CHECK(snap.requests == 1);
  REQUIRE(snap.routes.size() == 1);
  bool api_code = false;
  for (const auto& svc : snap.routes[0].services)
    api_code |= svc.service == "api" && svc.code_ms == doctest::Approx(80);
  CHECK(api_code);
}

// ---- #22: patterns by shape, whatever the parent links, datastore or cost -------------------------

namespace {

// A request whose `n` lookups (each `ms` long, `gap` apart; gap < 0: all at once) hang under `parent`.
std::vector<TSpan> lookups(int n, double ms, double gap, const std::string& statement,
                           const std::string& parent,
                           std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<TSpan> spans;
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<std::string, std::string>> attrs = {{"db.system", "postgresql"},
                                                              {"db.statement", statement}};
    attrs.insert(attrs.end(), extra.begin(), extra.end());
    double start = gap < 0 ? 5 : 5 + i * (ms + gap);
    spans.push_back({fmt::format("{:x}", 0x500 + i), parent, "SELECT", "api", kClient, start, ms, attrs});
  }
  return spans;
}

}  // namespace

TEST_CASE("#22: flat parent links — calls beside the span that covers them are found in it") {
  // Rails/Django agents: every span under the transaction root, the controller action beside the SQL.
  auto snap = requests_of(10, [](int) {
    std::vector<TSpan> spans = {
        {"1", "", "GET /books", "api", kServer, 0, 120, {{"http.route", "/books"}}},
        {"2", "1", "process_action.action_controller", "api", kInternal, 2, 116},
    };
    auto sql = lookups(10, 10, 1, "SELECT * FROM authors WHERE id = ?", "1");
    spans.insert(spans.end(), sql.begin(), sql.end());
    return spans;
  });
  auto n1 = trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["parent"] == "process_action.action_controller");
  CHECK(n1[0].evidence["shape"] == "serial");
  const Route& r = route(snap, "/books");
  CHECK(r.database_ms / r.request_ms > 0.8);  // not "100 % own code" of the covering span
  CHECK(trace_findings(snap, "code.self_time_hotspot").empty());
}

TEST_CASE(
    "#22: placeholders are not parameters — %s, ?, :id, @p1 repeated are an N+1, never 'same parameters'") {
  for (std::string statement :
       {"SELECT * FROM books_author WHERE id = %s LIMIT 21", "SELECT * FROM authors WHERE id = ? LIMIT 1",
        "SELECT * FROM authors WHERE id = :id", "SELECT TOP 1 * FROM authors WHERE id = @p1",
        "SELECT * FROM authors WHERE id = %(id)s",
        "SELECT [a].[Id] FROM [Authors] AS [a] WHERE [a].[Id] = @__id_0"}) {
    CAPTURE(statement);
    auto snap = requests_of(5, [&](int) {
      std::vector<TSpan> spans = {
          {"1", "", "GET /books", "api", kServer, 0, 100, {{"http.route", "/books"}}}};
      auto sql = lookups(10, 5, 1, statement, "1");
      spans.insert(spans.end(), sql.begin(), sql.end());
      return spans;
    });
    CHECK(trace_findings(snap, "db.repeated_identical_query").empty());
    CHECK(trace_findings(snap, "db.n_plus_one").size() == 1);
  }
  // Literal values known equal are the same parameters.
  auto same = requests_of(5, [](int) {
    std::vector<TSpan> spans = {{"1", "", "GET /books", "api", kServer, 0, 100, {{"http.route", "/books"}}}};
    auto sql = lookups(10, 5, 1, "SELECT value FROM settings WHERE key = 'currency'", "1");
    spans.insert(spans.end(), sql.begin(), sql.end());
    return spans;
  });
  CHECK(trace_findings(same, "db.repeated_identical_query").size() == 1);
  CHECK(trace_findings(same, "db.n_plus_one").empty());
}

TEST_CASE(
    "#22: a cheap N+1 is low, and concurrent lookups are an N+1 too, said to cost load more than latency") {
  auto cheap = requests_of(10, [](int) {
    std::vector<TSpan> spans = {{"1", "", "GET /stores", "api", kServer, 0, 20, {{"http.route", "/stores"}}}};
    auto sql = lookups(6, 2, 0.2, "SELECT * FROM stores WHERE id = $1", "1");
    spans.insert(spans.end(), sql.begin(), sql.end());
    return spans;
  });
  auto low = trace_findings(cheap, "db.n_plus_one");
  REQUIRE(low.size() == 1);
  CHECK(low[0].severity == Severity::low);
  CHECK(judge_traces(cheap).findings.size() == 1);
  // Its id depends on what it is (route, statement), not on how often or how fast it ran: a baseline
  // from another run recognizes it.
  auto other_run = requests_of(3, [](int) {
    std::vector<TSpan> spans = {{"1", "", "GET /stores", "api", kServer, 0, 35, {{"http.route", "/stores"}}}};
    auto sql = lookups(9, 3, 0.5, "SELECT * FROM stores WHERE id = $1", "1");
    spans.insert(spans.end(), sql.begin(), sql.end());
    return spans;
  });
  auto again = trace_findings(other_run, "db.n_plus_one");
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == low[0].id);

  auto concurrent = requests_of(10, [](int) {
    std::vector<TSpan> spans = {
        {"1", "", "POST /graphql", "api", kServer, 0, 60, {{"http.route", "/graphql"}}}};
    for (int i = 0; i < 12; ++i) {  // one resolver span each, the lookups under it, all at once
      std::string id = fmt::format("{:x}", 0x700 + i);
      spans.push_back({id, "1", "graphql.resolve author", "api", kInternal, 4, 50});
      spans.push_back(
          {fmt::format("{:x}", 0x800 + i),
           id,
           "SELECT",
           "api",
           kClient,
           5,
           45,
           {{"db.system", "postgresql"}, {"db.statement", "SELECT * FROM authors WHERE id = $1"}}});
    }
    return spans;
  });
  auto n1 = trace_findings(concurrent, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["shape"] == "concurrent");
  CHECK(n1[0].evidence["repetitions_per_request"] == 12);
  CHECK(n1[0].detail.find("pool") != std::string::npos);
}

TEST_CASE("#22: routes — templated paths, a catch-all gateway's downstream endpoint") {
  auto snap = requests_of(6, [](int t) {
    return std::vector<TSpan>{
        {"1", "", "GET", "gateway", kServer, 0, 50, {{"http.route", "/*"}}},
        {"2", "1", "GET", "gateway", kClient, 1, 48, {{"http.url", "http://orders:8080/orders/17"}}},
        {"3",
         "2",
         "GET",
         "orders",
         kServer,
         2,
         46,
         {{"url.path", fmt::format("/orders/{}/lines", 1000 + t)}}},
    };
  });
  REQUIRE(snap.routes.size() == 1);
  CHECK(snap.routes[0].service == "gateway");
  CHECK(snap.routes[0].route == "/orders/{id}/lines");
}

TEST_CASE("#22: network inside the trace — a slow link names its callee and caller") {
  auto snap = requests_of(10, [](int) {
    return std::vector<TSpan>{
        {"1", "", "GET /cart", "cart", kServer, 0, 260, {{"http.route", "/cart"}}},
        {"2", "1", "GET", "cart", kClient, 5, 250, {{"http.url", "http://pricing:80/quotes/1"}}},
        {"3", "2", "GET /quotes/:id", "pricing", kServer, 10, 8, {{"http.route", "/quotes/:id"}}},
        {"4", "1", "GET", "cart", kClient, 256, 3, {{"http.url", "http://stock:80/stock/1"}}},
        {"5", "4", "GET /stock/:id", "stock", kServer, 256.5, 2, {{"http.route", "/stock/:id"}}},
    };
  });
  auto link = trace_findings(snap, "net.link_latency");
  REQUIRE(link.size() == 1);
  CHECK(link[0].evidence["caller"] == "cart");
  CHECK(link[0].evidence["callee"] == "pricing");
  CHECK(link[0].evidence["gap_p95_ms"].get<double>() == doctest::Approx(242).epsilon(0.02));
  CHECK(link[0].evidence["other_links"] == 1);
  CHECK(link[0].severity == Severity::critical);
}

TEST_CASE("#22: conventions — Zipkin local spans, PDO prepare/execute, MongoDB, gRPC, messaging") {
  auto snap = requests_of(5, [](int) {
    std::vector<TSpan> spans = {
        {"1", "", "GET /report", "php", kServer, 0, 200, {{"http.route", "/report"}}}};
    for (int i = 0; i < 6; ++i) {  // statement on the prepare, duration on the execute, no db.system
      spans.push_back({fmt::format("{:x}", 0x900 + i),
                       "1",
                       "PDO::prepare",
                       "php",
                       kClient,
                       2 + i * 20.0,
                       1,
                       {{"db.statement", "SELECT * FROM users WHERE id = ?"}}});
      spans.push_back(
          {fmt::format("{:x}", 0xa00 + i), "1", "PDOStatement::execute", "php", kClient, 4 + i * 20.0, 15});
    }
    spans.push_back({"b1", "1", "sql.query", "php", kInternal, 125, 5});
    spans.push_back({"b2",
                     "1",
                     "find",
                     "php",
                     kClient,
                     131,
                     5,
                     {{"db.system", "mongodb"},
                      {"db.mongodb.collection", "users"},
                      {"db.statement", R"({\"find\":\"users\",\"filter\":{\"_id\":42}})"}}});
    spans.push_back({"b3",
                     "1",
                     "billing.Invoices/Get",
                     "php",
                     kClient,
                     137,
                     5,
                     {{"rpc.system", "grpc"}, {"rpc.service", "billing.Invoices"}, {"rpc.method", "Get"}}});
    spans.push_back({"b4",
                     "1",
                     "orders publish",
                     "php",
                     kProducer,
                     143,
                     5,
                     {{"messaging.system", "kafka"}, {"messaging.destination.name", "orders"}}});
    return spans;
  });
  auto n1 = trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["query"] == "SELECT * FROM users WHERE id = $1");
  CHECK(n1[0].evidence["repetitions_per_request"] == 6);  // the prepares are counted with their executes
  std::set<std::string> statements, hosts;
  for (const auto& st : snap.statements) statements.insert(st.text);
  for (const auto& e : snap.externals) hosts.insert(e.host);
  CHECK(statements.count("sql.query") == 1);
  CHECK(statements.count(R"(users {"find":?,"filter":{"_id":?}})") == 1);
  CHECK(hosts.count("billing.Invoices") == 1);
  CHECK(hosts.count("kafka orders") == 1);
  const Route& r = route(snap, "/report");
  CHECK(r.database_ms > r.external_ms);
}

TEST_CASE(
    "#22: a datastore's own tracer (HotROD's redis service) and Zipkin local sql.query spans are "
    "datastores") {
  auto snap = requests_of(5, [](int) {
    std::vector<TSpan> spans = {
        {"1", "", "/dispatch", "driver", kServer, 0, 300, {{"http.route", "/dispatch"}}}};
    for (int i = 0; i < 10; ++i)  // one GetDriver per driver, one after another, in the redis service
      spans.push_back({fmt::format("{:x}", 0xc00 + i), "1", "GetDriver", "redis", kClient, 5 + i * 25.0, 24});
    spans.push_back({"d1", "1", "sql.query", "driver", kInternal, 260, 30});
    return spans;
  });
  auto n1 = trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["datastore"] == "redis");
  CHECK(n1[0].evidence["repetitions_per_request"] == 10);
  const Route& r = route(snap, "/dispatch");
  CHECK(r.cache_ms / r.request_ms > 0.7);
  CHECK(r.database_ms / r.request_ms > 0.09);  // the local sql.query span
  CHECK(r.external_ms == 0);
}

}  // namespace test_traces_requests
