// Issue #23, points 5 and 6: thresholds restated for a window, so pg_stat_statements and the traces
// judge the same statement alike over the same window; and requests cut by the window's edges
// (their root span never arrived) counted in a note, never a route or a finding of their own.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "core/catalog.hpp"
#include "harness.hpp"
#include "probes/otlp/snapshot.hpp"
#include "probes/postgres/rules.hpp"
#include "probes/slow_query.hpp"
#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"
#include "traces_support.hpp"

using namespace cp;
using test::kClient;
using test::kServer;
using test::otlp_spans;
using test::TSpan;

namespace {

TSpan lookup(int i, const std::string& parent, double start, double dur = 4) {
  return {
      fmt::format("{:x}", 0x200 + i),
      parent,
      "pg.query",
      "shop",
      kClient,
      start,
      dur,
      {{"db.system", "postgresql"}, {"db.statement", fmt::format("SELECT * FROM items WHERE id = {}", i)}}};
}

// A request of GET /orders at `at` ms: the server span (unless `rooted` is false: its root never
// arrived) and 20 lookups, one per item, under it.
std::vector<TSpan> order_request(double at, bool rooted = true) {
  std::vector<TSpan> spans;
  if (rooted)
    spans.push_back({"1", "", "GET /orders", "shop", kServer, at, 120, {{"http.route", "/orders"}}});
  for (int i = 0; i < 20; ++i) spans.push_back(lookup(i, "1", at + 10 + i * 5.0));
  return spans;
}

bool has_note(const Judgement& j, const std::string& text) {
  return std::any_of(j.notes.begin(), j.notes.end(),
                     [&](const std::string& n) { return n.find(text) != std::string::npos; });
}

bool has_route(const Judgement& j, const std::string& route) {
  for (const auto& b : j.breakdowns)
    if (b["route"] == route) return true;
  return false;
}

}  // namespace

// ---- point 5: one grading of db.slow_query over a window -----------------------------------------

TEST_CASE("window thresholds: db.slow_query's call floor is a count for cumulative statistics only") {
  RuleParams p(*find_rule("db.slow_query"), {});
  // Cumulative (window 0): 100 calls at the 20 ms mean, PgHero's floors, inclusive.
  CHECK(grade_slow_query({99, 99 * 20.0, 0.1, 0, 0}, p).severity == std::nullopt);
  CHECK(grade_slow_query({100, 100 * 20.0, 0.1, 0, 0}, p).severity == Severity::medium);
  CHECK(grade_slow_query({100, 100 * 19.99, 0.1, 0, 0}, p).severity == std::nullopt);
  // In a window the statement's busy time per second of it decides: 200 ms/s, inclusive.
  CHECK(grade_slow_query({50, 1999, 0.1, 0, 10}, p).severity == std::nullopt);
  CHECK(grade_slow_query({50, 2000, 0.1, 0, 10}, p).severity == Severity::medium);
  // …whatever the calls: one client running a 200 ms scan 50 times in 10 s reaches it.
  CHECK(grade_slow_query({50, 50 * 200.0, 0.1, 0, 10}, p).slow);
  CHECK(!grade_slow_query({50, 50 * 200.0, 0.1, 0, 0}, p).slow);  // not in all-time statistics
  // It scales with the window: the same 2 s of execution over 60 s is not enough.
  CHECK(grade_slow_query({100, 2000, 0.1, 0, 60}, p).severity == std::nullopt);
}

TEST_CASE("window thresholds: dominance grades db.slow_query alike in both probes") {
  RuleParams p(*find_rule("db.slow_query"), {});
  // Slow and dominant on a busy database: high.
  CHECK(grade_slow_query({50, 10000, 0.9, 1000, 10}, p).severity == Severity::high);
  // Dominant and slow per call, but rare: medium.
  CHECK(grade_slow_query({5, 500, 0.9, 60, 10}, p).severity == Severity::medium);
  // Dominant but fast: info; dominant on an idle database: not at all.
  CHECK(grade_slow_query({5000, 5000, 0.9, 600, 10}, p).severity == Severity::info);
  CHECK(grade_slow_query({5, 50, 0.9, 5, 10}, p).severity == std::nullopt);
}

namespace {

// The slow scan of issue #23: one client, one 200 ms scan after another for 10 s, beside a cheap
// lookup. The same numbers as pg_stat_statements reads them and as the client spans show them.
constexpr const char* kScan = "SELECT * FROM orders WHERE note LIKE $1";
constexpr const char* kCustomerLookup = "SELECT * FROM customers WHERE id = $1";

pg::Snapshot pg_window(double scan_calls, double scan_ms, double lookup_calls, double window_s) {
  pg::Snapshot s;
  s.database = "shop";
  s.window_s = window_s;
  s.statements = {{1, kScan, scan_calls, scan_calls, scan_calls * scan_ms},
                  {2, kCustomerLookup, lookup_calls, lookup_calls, lookup_calls * 0.2}};
  return s;
}

traces::Snapshot traces_window(double scan_calls, double scan_ms, double lookup_calls, double window_s) {
  traces::Snapshot s;
  s.window_s = window_s;
  s.statements = {
      {kScan, "postgresql", false, scan_calls, scan_calls * scan_ms, {}, "shop", scan_calls},
      {kCustomerLookup, "postgresql", false, lookup_calls, lookup_calls * 0.2, {}, "shop", lookup_calls}};
  return s;
}

std::optional<Severity> severity_of(const std::vector<Finding>& findings) {
  for (const auto& f : findings)
    if (f.rule == "db.slow_query" && f.evidence["query"] == kScan) return f.severity;
  return std::nullopt;
}

std::optional<Severity> pg_severity(const pg::Snapshot& s) {
  Target t{"postgres", "--postgres", {""}, "postgresql://app@127.0.0.1:5432/shop", {}};
  return severity_of(pg::judge(s, t, {}).findings);
}

std::optional<Severity> traces_severity(const traces::Snapshot& s) {
  return severity_of(test::judge_traces(s).findings);
}

}  // namespace

TEST_CASE("window thresholds: the same numbers over 10 s get the same severity from both probes") {
  struct Case {
    double scan_calls, scan_ms, lookup_calls, window_s;
    std::optional<Severity> expected;
  };
  for (const Case& c : std::vector<Case>{
           {50, 200, 100, 10, Severity::high},       // the slow scan of #23, one client: dominant and slow
           {50, 200, 100, 0, Severity::medium},      // cumulative: 50 calls under the floor, dominant
           {150, 200, 100, 0, Severity::high},       // cumulative: over the floor
           {9, 200, 100000, 10, std::nullopt},       // 180 ms/s: under the window's floor, not dominant
           {10, 200, 100000, 10, Severity::medium},  // 200 ms/s: the floor, inclusive
           {50, 19, 100, 10, Severity::info},        // fast per call, dominant
       }) {
    CAPTURE(c.scan_calls);
    CAPTURE(c.window_s);
    auto pg = pg_severity(pg_window(c.scan_calls, c.scan_ms, c.lookup_calls, c.window_s));
    CHECK(pg == c.expected);
    // The traces leave "fast but dominant" (info) to the database's own statistics.
    if (c.expected != Severity::info)
      CHECK(traces_severity(traces_window(c.scan_calls, c.scan_ms, c.lookup_calls, c.window_s)) == pg);
  }
}

TEST_CASE("window thresholds: the slow scan from assembled spans is judged as pg_stat_statements judges it") {
  std::vector<std::string> docs;
  for (int t = 1; t <= 50; ++t)  // one client, one request after another, ~10 s
    docs.push_back(otlp_spans(
        {{"1", "", "GET /report", "shop", kServer, (t - 1) * 200.0, 199, {{"http.route", "/report"}}},
         {"2",
          "1",
          "pg.query",
          "shop",
          kClient,
          (t - 1) * 200.0 + 1,
          197,
          {{"db.system", "postgresql"}, {"db.statement", "SELECT * FROM orders WHERE note LIKE '%x%'"}}}},
        t));
  auto snap = test::assemble_docs(docs);
  CHECK(snap.window_s == doctest::Approx(9.999).epsilon(0.001));
  auto slow = test::trace_findings(snap, "db.slow_query");
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].evidence["requests"] == 50);
  CHECK(slow[0].evidence["busy_ms_per_s"].get<double>() == doctest::Approx(985.1).epsilon(0.01));
  auto pg = pg_severity(pg_window(50, 197, 1, 10));
  REQUIRE(pg);
  CHECK(slow[0].severity == *pg);
  CHECK(slow[0].severity == Severity::high);
}

TEST_CASE("window thresholds: db.n_plus_one counts calls per second in a window, calls when cumulative") {
  RuleParams p(*find_rule("db.n_plus_one"), {});
  CHECK(p["min_calls"] == 100);
  CHECK(p["min_calls_per_s"] == 10);
  CHECK(find_rule("db.n_plus_one")->threshold("min_calls")->scope == WindowScope::cumulative);
  CHECK(scales_with_window(*find_rule("db.n_plus_one")->threshold("min_calls_per_s")));
  CHECK(scales_with_window(*find_rule("db.slow_query")->threshold("min_busy_ms_per_s")));
  CHECK(scales_with_window(*find_rule("db.slow_query")->threshold("min_db_time_ms_per_s")));
  CHECK(!scales_with_window(*find_rule("db.slow_query")->threshold("min_calls")));
  CHECK(!scales_with_window(*find_rule("db.slow_query")->threshold("min_mean_ms")));
}

// ---- point 6: the window's edges ------------------------------------------------------------------

TEST_CASE("window edges: requests cut at the window's end form no route and no finding, a note counts them") {
  std::vector<std::string> docs;
  for (int t = 1; t <= 30; ++t) docs.push_back(otlp_spans(order_request(t * 200.0), t));
  // Two requests still in flight when the window closed: their lookups arrived, their root not.
  docs.push_back(otlp_spans(order_request(30 * 200.0 + 50, false), 31));
  docs.push_back(otlp_spans(order_request(30 * 200.0 + 90, false), 32));
  auto snap = test::assemble_docs(docs);
  auto j = test::judge_traces(snap);
  CHECK(!has_route(j, "(missing span)"));
  CHECK(has_route(j, "/orders"));
  CHECK(has_note(j, "2 requests lost their root span at the window's edges"));
  for (const auto& f : j.findings) {
    CAPTURE(f.title);
    CHECK(f.evidence.value("route", "") != "(missing span)");
    CHECK(f.evidence.contains("requests"));  // every trace finding says what it rests on
  }
  auto n1 = test::trace_findings(snap, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["route"] == "/orders");
  CHECK(n1[0].evidence["requests"] == 30);
}

TEST_CASE("window edges: more cut requests than the floor, all at the edges, are still cut") {
  std::vector<std::string> docs;
  for (int t = 1; t <= 30; ++t) docs.push_back(otlp_spans(order_request(t * 200.0), t));
  for (int t = 0; t < 8; ++t) docs.push_back(otlp_spans(order_request(31 * 200.0 + t * 10, false), 40 + t));
  auto snap = test::assemble_docs(docs);
  double rootless = 0;
  for (const auto& r : snap.routes)
    if (r.route == "(missing span)") {
      rootless = r.rootless_requests;
      CHECK(r.edge_requests == 8);
    }
  CHECK(rootless == 8);
  auto j = test::judge_traces(snap);
  CHECK(!has_route(j, "(missing span)"));
  CHECK(has_note(j, "8 requests lost their root span"));
}

TEST_CASE("window edges: a service that never emits its root keeps its diagnosis") {
  SUBCASE("alone in the input") {
    std::vector<std::string> docs;
    for (int t = 1; t <= 20; ++t) docs.push_back(otlp_spans(order_request(t * 200.0, false), t));
    auto j = test::judge_traces(test::assemble_docs(docs));
    CHECK(has_route(j, "(missing span)"));
    CHECK(has_note(j, "the root span of 20 requests never arrived"));
    auto n1 = test::trace_findings(test::assemble_docs(docs), "db.n_plus_one");
    REQUIRE(n1.size() == 1);
    CHECK(n1[0].evidence["requests"] == 20);
  }
  SUBCASE("beside complete requests of another service, spread over the window") {
    std::vector<std::string> docs;
    for (int t = 1; t <= 30; ++t)
      docs.push_back(otlp_spans(
          {{"1", "", "GET /health", "gateway", kServer, t * 200.0, 5, {{"http.route", "/health"}}}}, t));
    for (int t = 0; t < 10; ++t) docs.push_back(otlp_spans(order_request(1000 + t * 400.0, false), 100 + t));
    auto j = test::judge_traces(test::assemble_docs(docs));
    CHECK(has_route(j, "(missing span)"));
    CHECK(!has_note(j, "lost their root span"));
  }
}

TEST_CASE("window edges: a handful of rootless requests stay under min_rootless_requests (configurable)") {
  std::vector<std::string> docs;
  for (int t = 1; t <= 4; ++t) docs.push_back(otlp_spans(order_request(t * 200.0, false), t));
  auto snap = test::assemble_docs(docs);
  CHECK(test::trace_findings(snap, "db.n_plus_one").empty());
  Settings settings;
  settings.probe_options["traces"]["min_rootless_requests"] = 4;
  Target t{"traces", "--traces", {""}, "fixture", {}};
  auto j = traces::judge(snap, t, settings);
  CHECK(has_route(j, "(missing span)"));
  CHECK(std::any_of(j.findings.begin(), j.findings.end(), [](auto& f) { return f.rule == "db.n_plus_one"; }));
}

TEST_CASE("window thresholds: the OTLP receiver judges the statements over its own window") {
  // 50 calls of 40 ms: 2 s of execution. Over the receiver's 10 s window, 200 ms/s: slow; over 60 s
  // not (the spans' own time span, 5 s, is not the window when the receiver measured one).
  cp::otlp::Snapshot snap;
  snap.receiver.window_s = 10;
  snap.traces.window_s = 5;
  snap.traces.statements = {{kScan, "postgresql", false, 50, 2000, {}, "shop", 50}};
  Target t{"otlp", "--otlp-listen", {"4318"}, "127.0.0.1:4318", {}};
  auto judge = [&] { return find_probe_kind("otlp")->judge(nlohmann::json(snap), t, {}); };
  auto slow = [](const Judgement& j) { return severity_of(j.findings); };
  CHECK(slow(judge()) == Severity::high);
  snap.receiver.window_s = 60;
  CHECK(slow(judge()) == std::nullopt);  // 33 ms/s: neither slow over 60 s nor a busy database
}
