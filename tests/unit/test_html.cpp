// The HTML page: what comes from a measured system never becomes markup, nothing is fetched, every
// chart the report calls for is there, and the page stays small whatever the report holds. (The
// page in a real browser: tests/tools/browser_test.py, CTest `browser.html_reports`.)
#include <doctest/doctest.h>

#include <map>
#include <regex>

#include <fmt/format.h>

#include "core/gate.hpp"
#include "harness.hpp"
#include "render/render.hpp"
#include "render/svg.hpp"

using namespace cp;

namespace {

const std::string kHostile =
    "</title><script>alert(\"x\")</script><img src=x onerror='alert(1)'>\" onmouseover=\"y";

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

Finding hostile_finding(int i, size_t long_line) {
  Finding f;
  f.id = fmt::format("{:032x}", i);
  f.rule = "db.slow_query";
  f.severity = Severity::high;
  f.component = "postgres:" + kHostile;
  f.title = "Slow " + kHostile;
  f.detail = std::string(long_line, 'x') + kHostile;
  f.impact = {0.5, "db_time"};
  f.evidence = {{"query", "SELECT '" + kHostile + "' FROM t WHERE a = $1" + std::string(long_line, 'q')},
                {kHostile, 1},
                {"spans", json::array({{{"name", kHostile}, {"host", kHostile}}})}};
  f.remediation.summary = kHostile;
  f.remediation.sql = "CREATE INDEX CONCURRENTLY ON \"" + kHostile + "\" (a);";
  f.thresholds = {{"min_ms", {{"value", 20}, {"unit", "ms"}, {"source", kHostile}}}};
  return f;
}

Report hostile_report(int findings, size_t long_line) {
  Report r;
  r.run.started_at = "2026-11-26T08:00:00Z";
  r.run.window_s = 10;
  r.targets.push_back({"postgres", "postgresql://app@" + kHostile + "/shop"});
  r.probes.push_back({"postgres", kHostile, ProbeStatus::error, kHostile, {kHostile}, 12});
  r.verdict = {Category::database, 0.9, "Headline " + kHostile};
  for (Category c : kCategories) r.ranking.push_back({c, 0.25, c != Category::code, {}, kHostile});
  for (int i = 0; i < findings; ++i) r.findings.push_back(hostile_finding(i, long_line));
  Advice a;
  a.id = "advice.connection_pooling";
  a.lever = "connection_pooling";
  a.component = "postgres:" + kHostile;
  a.title = "Pool " + kHostile;
  a.detail = kHostile;
  a.evidence = {{kHostile, kHostile}};
  a.expected_gain = {0.4, "connections", kHostile};
  a.preconditions = {kHostile};
  a.confidence = 0.8;
  a.measured_by = {kHostile};
  a.config = "[pgbouncer]\n" + kHostile;
  r.advice.push_back(a);
  r.breakdowns.push_back({{"service", kHostile},
                          {"route", kHostile},
                          {"requests", 10},
                          {"p50_ms", 1},
                          {"p95_ms", 2},
                          {"p99_ms", 3},
                          {"shares", {{"database", 0.5}, {"code", 0.5}, {kHostile, 0.0}}}});
  Series s{"http.request_ms", "ms", {{"target", kHostile}, {"phase", kHostile}}, {}};
  for (int i = 0; i < 5000; ++i) s.points.emplace_back(i * 0.01, i % 97);
  for (int i = 0; i < 60; ++i) r.series.push_back(s);
  r.gate.status = "fail";
  r.gate.fail_on = "high";
  r.gate.reasons.push_back(kHostile);
  r.gate.baseline.file = kHostile;
  return r;
}

}  // namespace

TEST_CASE("html: strings from measured systems render as text, never as markup") {
  std::string page = render_html(hostile_report(3, 20000));
  CHECK(count(page, "<script") == 0);
  CHECK(count(page, "<img") == 0);
  CHECK(count(page, "onerror='") == 0);  // the quote that would end an attribute is escaped
  CHECK(count(page, "onmouseover=\"") == 0);
  CHECK(count(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") > 10);
  CHECK(count(page, "</title><script") == 0);
  CHECK(count(page, "&lt;/title&gt;") > 10);
  // Long statement texts are cut for the page; the JSON report keeps them whole.
  CHECK(page.find(std::string(5000, 'q')) == std::string::npos);
}

TEST_CASE("html: self-contained, nothing can be fetched") {
  std::string page = render_html(hostile_report(2, 100));
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  // Nothing that loads: no url() or @import in the style, links only to anchors in the page.
  CHECK(page.find("url(") == std::string::npos);
  CHECK(page.find("@import") == std::string::npos);
  std::regex ref(R"(<[a-zA-Z][^<>]*\s(src|href|xlink:href|action|srcset|poster)=("[^"]*"|[^\s>]*))");
  size_t links = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), ref); it != std::sregex_iterator();
       ++it, ++links)
    CHECK_MESSAGE((*it)[2].str().rfind("\"#", 0) == 0, it->str());
  CHECK(links >= 4);  // the table of contents
}

TEST_CASE("html: the page stays under 2 MiB whatever the report holds") {
  std::string page = render_html(hostile_report(5000, 100000));
  CHECK(page.size() < 2 * 1024 * 1024);
  CHECK(page.find("more findings in the JSON report") != std::string::npos);
}

TEST_CASE("html: the advice before scaling, with its gain, preconditions and configuration") {
  std::string page = render_html(hostile_report(1, 10));
  CHECK(count(page, "<section id=\"advice\">") == 1);
  CHECK(count(page, "<article class=\"card advice\" id=\"a-advice.connection_pooling\">") == 1);
  CHECK(count(page, "<a href=\"#advice\">") == 1);
  CHECK(count(page, "<pre class=\"fix config\">[pgbouncer]") == 1);
  CHECK(page.find("40 %") != std::string::npos);
  Report none = hostile_report(1, 10);
  none.advice.clear();
  CHECK(render_html(none).find("id=\"advice\"") == std::string::npos);
}

TEST_CASE("html: one chart per ranking, route and sampled quantity, and before/after with a baseline") {
  Report r = hostile_report(1, 10);
  r.series.clear();
  r.gate = Gate{};
  r.breakdowns.push_back({{"service", "api"},
                          {"route", "/orders/{id}"},
                          {"requests", 10},
                          {"p50_ms", 140},
                          {"p95_ms", 150},
                          {"p99_ms", 160},
                          {"latency_histogram",
                           {{{"lower_ms", 138.8}, {"upper_ms", 140.2}, {"count", 9}},
                            {{"lower_ms", 148.6}, {"upper_ms", 150.1}, {"count", 1}}}},
                          {"shares", {{"database", 0.78}, {"cache", 0.02}, {"code", 0.2}}}});
  r.series.push_back({"pg.sessions", "sessions", {{"target", "a"}, {"state", "active"}}, {{0, 1}, {1, 3}}});
  r.series.push_back(
      {"pg.sessions", "sessions", {{"target", "a"}, {"state", "waiting_lock"}}, {{0, 0}, {1, 2}}});
  r.series.push_back({"http.request_ms", "ms", {{"target", "b"}, {"phase", "total"}}, {{0, 10}, {1, 30}}});
  Report baseline = r;
  baseline.findings.clear();
  GateOptions g;
  g.baseline = &baseline;
  g.baseline_file = "before.json";
  apply_gate(r, g);
  std::string page = render_html(r);
  CHECK(count(page, "data-chart=\"ranking\"") == 1);
  CHECK(count(page, "data-chart=\"route-time\"") == r.breakdowns.size());
  CHECK(count(page, "data-chart=\"route-latency\"") == 1);
  CHECK(count(page, "data-chart=\"route-histogram\"") == 1);         // the route whose traces were read
  CHECK(count(page, "<title>138.8 ms – 140.2 ms: 9</title>") == 1);  // a bar, its range and count
  CHECK(count(page, "data-chart=\"series\"") == 2);                  // sessions (two lines) and request time
  CHECK(count(page, "<polyline") == 3);
  CHECK(count(page, "data-chart=\"series-histogram\"") == 1);  // timings also as a distribution
  CHECK(count(page, "data-chart=\"ranking-before\"") == 1);
  CHECK(count(page, "data-chart=\"ranking-after\"") == 1);
  CHECK(page.find("data-verdict=\"database\"") != std::string::npos);
  CHECK(page.find(">new</span>") != std::string::npos);
  CHECK(page.find("database 78 %") != std::string::npos);  // a share written on its segment
}

TEST_CASE("svg: axis steps are round numbers covering the range") {
  CHECK(svg::nice_step(1.0, 5) == doctest::Approx(0.2));
  CHECK(svg::nice_step(140, 5) == doctest::Approx(50));
  CHECK(svg::nice_step(0, 5) == 1);
  CHECK(svg::html_escape(std::string("a\0b<", 4)) ==
        "a\xEF\xBF\xBD"
        "b&lt;");
}

TEST_CASE("series: what the probes sampled through the window, in the report and valid against the schema") {
  auto run = test::diagnose_json(
      {"--replay", test::source_dir() + "/tests/fixtures/pgbouncer/pool_saturation.evidence.json"});
  REQUIRE(run.schema_errors.empty());
  const auto& series = run.report["series"];
  REQUIRE(series.is_array());
  double window = run.report["run"]["window_s"].get<double>();
  std::map<std::string, double> peak;  // name|state -> highest value
  for (const auto& s : series) {
    std::string key = s["name"].get<std::string>() + "|" + s["labels"].value("state", "");
    CHECK(!s["labels"].value("target", "").empty());
    double last_t = -1;
    for (const auto& p : s["points"]) {
      double t = p[0].get<double>();
      CHECK(t >= last_t);  // in time order, inside the window
      CHECK(t <= window + 1);
      last_t = t;
      peak[key] = std::max(peak[key], p[1].get<double>());
    }
  }
  // 16 clients on a pool of 2: clients wait all through the window, sessions are sampled.
  CHECK(peak["pgbouncer.clients|waiting"] >= 10);
  CHECK(peak["pgbouncer.clients|active"] <= 4);
  CHECK(peak.count("pgbouncer.maxwait_ms|") == 1);
  CHECK(peak.count("pg.sessions|active") == 1);
  CHECK(peak.count("pg.sessions|waiting_lock") == 1);
}

TEST_CASE("series: a zero window samples nothing over time") {
  auto run =
      test::diagnose_json({"--traces", test::source_dir() + "/tests/fixtures/traces/otlp_n_plus_one.json"});
  REQUIRE(run.schema_errors.empty());
  CHECK(run.report["series"].empty());
}
