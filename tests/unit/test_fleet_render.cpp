// The fleet section (--prometheus, #25) in every format: source and window, instances per worst
// category, the worst instances first (text and markdown cut after ten, HTML and JSON list all),
// what was not examined; label values from exporters escaped for each format; the JSON round trip
// and the schema; no fleet, no section.
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "core/fleet.hpp"
#include "core/report_json.hpp"
#include "harness.hpp"
#include "json_schema.hpp"
#include "render/render.hpp"

using namespace cp;

namespace test_fleet_render {

// A label value as an exporter may hand it over: markup, an entity, a quote.
const std::string kOdd = "<&\">";
const std::string kOddPod = "pod shop/" + kOdd + "-x/app";

Finding fleet_finding(int n, const std::string& instance, const std::string& kind, const char* rule,
                      Category c, Severity s, double share) {
  Finding f;
  f.id = fmt::format("{:032x}", n + 1);
  f.rule = rule;
  f.category = c;
  f.severity = s;
  f.component = kind + ":" + instance;
  f.title = fmt::format("{} on {}", rule, instance);
  f.impact = {share, "cpu_time"};
  f.remediation.summary = "fix it";
  f.probe = "prometheus";
  f.target = instance;
  f.evidence = {{"instance", instance},
                {"instance_kind", kind},
                {"instance_labels", {{"namespace", "shop"}}},
                {"measured_by", "prometheus"}};
  return f;
}

// `clean` instances without a finding after five with findings: worst first is checkout (critical),
// then the node and postgres (high, the node's share larger), redis (medium), the odd pod (low).
Report fleet_report(int clean) {
  Report r;
  r.run.started_at = "2026-12-08T02:00:10Z";
  r.run.window_s = 0;
  r.targets.push_back({"prometheus", "http://prom.example:9090"});
  r.probes.push_back({"prometheus", "http://prom.example:9090", ProbeStatus::ok, "", {}, 120});
  r.verdict = {Category::infrastructure, 0.8, "Containers of the fleet are throttled"};
  for (Category c : kCategories)
    r.ranking.push_back({c, c == Category::infrastructure ? 0.8 : 0.05,
                         c == Category::infrastructure || c == Category::database, {}, ""});
  Fleet fl;
  fl.source = "http://prom.example:9090";
  fl.at = "2026-12-08T02:00:00Z";
  fl.range_s = 300;
  fl.queries = 14;
  fl.not_examined = {"pgbouncer: no pgbouncer_exporter series in the window"};
  auto add = [&](const std::string& name, const std::string& kind, std::map<std::string, std::string> labels) {
    fl.instances.push_back({name, kind, std::move(labels), std::nullopt, std::nullopt, {}, ""});
  };
  for (int i = 0; i < clean; ++i)
    add(fmt::format("pod shop/web-{:02}/app", i), "container", {{"namespace", "shop"}});
  add(kOddPod, "container", {{"namespace", "shop"}, {"pod", kOdd + "-x"}});
  add("redis 10.0.0.8:6379", "redis", {{"instance", "10.0.0.8:6379"}});
  add("postgres 10.0.0.7:9187", "postgres", {{"instance", "10.0.0.7:9187"}});
  add("node 10.0.0.5:9100", "host", {{"instance", "10.0.0.5:9100"}});
  add("pod shop/checkout-7d9f8-abcde/app", "container", {{"namespace", "shop"}, {"pod", "checkout-7d9f8-abcde"}});
  r.fleet = fl;
  r.findings = {
      fleet_finding(0, "pod shop/checkout-7d9f8-abcde/app", "container", "infra.cpu_throttling",
                    Category::infrastructure, Severity::critical, 0.6),
      fleet_finding(1, "node 10.0.0.5:9100", "host", "infra.cpu_saturation", Category::infrastructure,
                    Severity::high, 0.5),
      fleet_finding(2, "postgres 10.0.0.7:9187", "postgres", "db.idle_in_transaction", Category::database,
                    Severity::high, 0.2),
      fleet_finding(3, "pod shop/checkout-7d9f8-abcde/app", "container", "infra.memory_pressure",
                    Category::infrastructure, Severity::medium, 0.1),
      fleet_finding(4, "redis 10.0.0.8:6379", "redis", "cache.evictions", Category::database, Severity::medium,
                    0.1),
      fleet_finding(5, kOddPod, "container", "infra.memory_pressure", Category::infrastructure, Severity::low,
                    0.05),
  };
  r.metrics.push_back({"fleet.instances", static_cast<double>(fl.instances.size()), "instances",
                       {{"target", fl.source}}});
  r.metrics.push_back({"fleet.queries", 14, "requests", {{"target", fl.source}}});
  summarize_fleet(r);
  return r;
}

// Where each string starts in `text` (npos when absent), in the order given.
std::vector<size_t> positions(const std::string& text, const std::vector<std::string>& needles) {
  std::vector<size_t> out;
  for (const auto& n : needles) out.push_back(text.find(n));
  return out;
}

bool ascending(const std::vector<size_t>& at) {
  return std::find(at.begin(), at.end(), std::string::npos) == at.end() && std::is_sorted(at.begin(), at.end());
}

size_t occurrences(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

const std::vector<std::string> kWorstFirst = {"pod shop/checkout-7d9f8-abcde/app", "node 10.0.0.5:9100",
                                              "postgres 10.0.0.7:9187", "redis 10.0.0.8:6379"};

}  // namespace test_fleet_render

using namespace test_fleet_render;

TEST_CASE("fleet model: summarize_fleet orders the test fleet worst first and counts per category") {
  Report r = fleet_report(7);
  REQUIRE(r.fleet->instances.size() == 12);
  CHECK(r.fleet->instances[0].name == kWorstFirst[0]);
  CHECK(r.fleet->instances[0].findings.size() == 2);
  CHECK(r.fleet->instances[1].name == kWorstFirst[1]);
  CHECK(r.fleet->instances[4].name == kOddPod);
  CHECK(r.fleet->instances_of(Category::infrastructure) == 3);
  CHECK(r.fleet->instances_of(Category::database) == 2);
  CHECK(fleet_clean(*r.fleet) == 7);
}

TEST_CASE("fleet text: source, window, counts per category, worst first, cut after ten") {
  Report r = fleet_report(7);
  std::string text = render_text(r, {});
  CAPTURE(text);
  CHECK(text.find("FLEET (12 instances examined)\n") != std::string::npos);
  CHECK(text.find("source: http://prom.example:9090") != std::string::npos);
  CHECK(text.find("window ending 2026-12-08T02:00:00Z, range 300 s, 14 queries") != std::string::npos);
  CHECK(text.find("by worst finding: database 2 · network 0 · code 0 · infrastructure 3 · no finding 7") !=
        std::string::npos);
  CHECK(ascending(positions(text, kWorstFirst)));
  CHECK(text.find("CRITICAL  pod shop/checkout-7d9f8-abcde/app  container · infrastructure · 2 findings") !=
        std::string::npos);
  CHECK(text.find("infra.cpu_throttling on pod shop/checkout-7d9f8-abcde/app") != std::string::npos);
  CHECK(text.find("ok        pod shop/web-00/app  container · no finding") != std::string::npos);
  // Ten listed: the five with findings and five clean ones; the last two clean pods are cut.
  CHECK(text.find("pod shop/web-04/app") != std::string::npos);
  CHECK(text.find("pod shop/web-05/app") == std::string::npos);
  CHECK(text.find("… and 2 more") != std::string::npos);
  CHECK(text.find("not examined: pgbouncer: no pgbouncer_exporter series in the window") != std::string::npos);
  // After the ranking, before the findings.
  CHECK(ascending(positions(text, {"RANKING\n", "FLEET (", "FINDINGS ("})));
  CHECK(text.find(kOddPod) != std::string::npos);  // text is not markup: as the exporter wrote it
}

TEST_CASE("fleet text and markdown: a small fleet is listed whole") {
  Report r = fleet_report(0);
  std::string text = render_text(r, {}), md = render_markdown(r);
  CHECK(text.find("FLEET (5 instances examined)") != std::string::npos);
  CHECK(text.find("… and") == std::string::npos);
  CHECK(text.find("no finding") == std::string::npos);  // nothing clean to count
  CHECK(md.find("### Fleet (5 instances examined)") != std::string::npos);
  CHECK(md.find("… and") == std::string::npos);
}

TEST_CASE("fleet markdown: a table of the worst instances, counts, cut after ten, cells escaped") {
  Report r = fleet_report(7);
  std::string md = render_markdown(r);
  CAPTURE(md);
  CHECK(md.find("\n### Fleet (12 instances examined)\n") != std::string::npos);
  CHECK(md.find("Source `http://prom.example:9090` · window ending 2026-12-08T02:00:00Z, range 300 s, 14 "
                "queries") != std::string::npos);
  CHECK(md.find("**By worst finding:** database 2 · network 0 · code 0 · infrastructure 3 · no finding 7") !=
        std::string::npos);
  CHECK(md.find("| Instance | Kind | Worst category | Severity | Top finding | Findings |") != std::string::npos);
  CHECK(md.find("| pod shop/checkout-7d9f8-abcde/app | container | infrastructure | 🔴 critical | "
                "infra.cpu_throttling on pod shop/checkout-7d9f8-abcde/app | 2 |") != std::string::npos);
  CHECK(md.find("| pod shop/web-00/app | container | — | ✅ ok | — | 0 |") != std::string::npos);
  CHECK(ascending(positions(md, kWorstFirst)));
  CHECK(md.find("pod shop/web-05/app") == std::string::npos);
  CHECK(md.find("… and 2 more in the JSON report.") != std::string::npos);
  CHECK(md.find("- pgbouncer: no pgbouncer_exporter series in the window") != std::string::npos);
  CHECK(md.find(kOdd) == std::string::npos);  // no raw markup
  CHECK(md.find("pod shop/&lt;&\"&gt;-x/app") != std::string::npos);
  CHECK(ascending(positions(md, {"| Category | Probability", "### Fleet", "### Findings"})));
}

TEST_CASE("fleet html: one row per instance worst first, label values escaped, the page self-contained") {
  Report r = fleet_report(7);
  std::string html = render_html(r);
  size_t start = html.find("<section id=\"fleet\">");
  REQUIRE(start != std::string::npos);
  std::string section = html.substr(start, html.find("</section>", start) - start);
  CAPTURE(section);
  CHECK(html.find("<a href=\"#fleet\">Fleet</a>") != std::string::npos);
  CHECK(section.find("<h2>Fleet: 12 instances examined</h2>") != std::string::npos);
  CHECK(section.find("http://prom.example:9090 · window ending 2026-12-08T02:00:00Z, range 300 s, 14 queries") !=
        std::string::npos);
  for (const char* th : {"instance", "kind", "worst category", "severity", "top finding"})
    CHECK(section.find(fmt::format("<th>{}</th>", th)) != std::string::npos);
  // All twelve, worst first; the top finding links to its card.
  CHECK(occurrences(section, "<tr><td>") == 12);
  CHECK(section.find("pod shop/web-06/app") != std::string::npos);
  CHECK(ascending(positions(section, kWorstFirst)));
  CHECK(section.find(fmt::format("<a href=\"#f-{:032x}\" style=\"color:inherit\">infra.cpu_throttling on", 1)) !=
        std::string::npos);
  CHECK(section.find("<span class=\"badge sev-critical\">critical</span>") != std::string::npos);
  CHECK(section.find("infrastructure <strong>3</strong>") != std::string::npos);
  CHECK(section.find("database <strong>2</strong>") != std::string::npos);
  CHECK(section.find("no finding <strong>7</strong>") != std::string::npos);
  CHECK(section.find("<li>pgbouncer: no pgbouncer_exporter series in the window</li>") != std::string::npos);
  // The odd label value and the name made from it: text, never markup.
  CHECK(section.find(kOdd) == std::string::npos);
  CHECK(section.find("pod shop/&lt;&amp;&quot;&gt;-x/app") != std::string::npos);
  CHECK(section.find("pod=&lt;&amp;&quot;&gt;-x") != std::string::npos);
  CHECK(occurrences(section, "<tr>") == occurrences(section, "</tr>"));
  CHECK(occurrences(section, "<td") == occurrences(section, "</td>"));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(ascending(positions(html, {"<section id=\"ranking\">", "<section id=\"fleet\">",
                                   "<section id=\"findings\">"})));
}

TEST_CASE("fleet prometheus: counts per category, one severity series per instance, promtool accepts it") {
  Report r = fleet_report(7);
  std::string text = render_prometheus(r);
  CAPTURE(text);
  CHECK(text.find("\nchokepoint_fleet_instances_examined 12\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_queries 14\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_instances{category=\"infrastructure\"} 3\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_instances{category=\"database\"} 2\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_instances{category=\"network\"} 0\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_instances{category=\"none\"} 7\n") != std::string::npos);
  // The metrics[] fleet.* entries do not write a second chokepoint_fleet_instances family.
  CHECK(occurrences(text, "# TYPE chokepoint_fleet_instances gauge") == 1);
  CHECK(occurrences(text, "# TYPE chokepoint_fleet_queries gauge") == 1);
  CHECK(text.find("chokepoint_fleet_instances{target=") == std::string::npos);
  CHECK(occurrences(text, "\nchokepoint_fleet_instance_severity{") == 12);
  CHECK(text.find("\nchokepoint_fleet_instance_severity{instance=\"pod shop/checkout-7d9f8-abcde/app\","
                  "kind=\"container\",category=\"infrastructure\"} 5\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_instance_severity{instance=\"redis 10.0.0.8:6379\",kind=\"redis\","
                  "category=\"database\"} 3\n") != std::string::npos);
  CHECK(text.find("\nchokepoint_fleet_instance_severity{instance=\"pod shop/web-00/app\",kind=\"container\","
                  "category=\"none\"} 0\n") != std::string::npos);
  CHECK(text.find("instance=\"pod shop/<&\\\">-x/app\"") != std::string::npos);  // the quote escaped
  // Every line is a comment or a sample: name, optional labels, a number.
  std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$)");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0) continue;
    CAPTURE(line);
    CHECK(std::regex_match(line, sample));
  }
  auto check = test::run({"promtool", "check", "metrics"}, text);
  CHECK_MESSAGE(check.exit_code == 0, (check.out + check.err));
}

TEST_CASE("fleet JSON: the round trip keeps the fleet and the shipped schema accepts it") {
  Report r = fleet_report(7);
  json doc = report_to_json(r);
  REQUIRE(doc.contains("fleet"));
  CHECK(doc["fleet"]["instances_examined"] == 12);
  CHECK(doc["fleet"]["instances"].size() == 12);  // all of them
  CHECK(doc["fleet"]["instances"][0]["name"] == kWorstFirst[0]);
  CHECK(doc["fleet"]["instances_by_category"]["infrastructure"] == 3);
  auto errors = test::report_schema().validate(doc);
  CHECK_MESSAGE(errors.empty(), fmt::format("{}", fmt::join(errors, "\n")));
  Report back = report_from_json(json::parse(render_json(r)));
  REQUIRE(back.fleet);
  CHECK(report_to_json(back)["fleet"] == doc["fleet"]);
  CHECK(back.fleet->instances[4].labels.at("pod") == kOdd + "-x");
  // The schema is strict enough to fail.
  json broken = doc;
  broken["fleet"]["instances"][0]["severity"] = "dire";
  CHECK_FALSE(test::report_schema().validate(broken).empty());
  broken = doc;
  broken["fleet"].erase("instances");
  CHECK_FALSE(test::report_schema().validate(broken).empty());
  broken = doc;
  broken["fleet"]["source"] = "http://admin:hunter2@prom.example:9090";
  CHECK_FALSE(test::report_schema().validate(broken).empty());
}

TEST_CASE("fleet SARIF and JUnit: a fleet finding names its instance") {
  Report r = fleet_report(2);
  json sarif = json::parse(render_sarif(r));
  auto errors = test::sarif_schema().validate(sarif);
  CHECK_MESSAGE(errors.empty(), fmt::format("{}", fmt::join(errors, "\n")));
  const json& first = sarif["runs"][0]["results"][0];
  CHECK(first["locations"][0]["logicalLocations"][0]["name"] == kWorstFirst[0]);
  CHECK(first["locations"][0]["logicalLocations"][0]["kind"] == "resource");
  std::string junit = render_junit(r);
  CHECK(junit.find("<testsuite name=\"chokepoint.prometheus pod shop/checkout-7d9f8-abcde/app\"") !=
        std::string::npos);
  CHECK(junit.find("<testsuite name=\"chokepoint.prometheus node 10.0.0.5\"") != std::string::npos);
  CHECK(junit.find(kOdd) == std::string::npos);
}

TEST_CASE("no fleet: no fleet section in any format") {
  Report r = fleet_report(3);
  r.fleet.reset();
  r.metrics.clear();
  for (Format f : {Format::text, Format::markdown, Format::html, Format::prometheus, Format::json}) {
    std::string out = render(r, f);
    CAPTURE(out);
    CHECK(out.find("FLEET") == std::string::npos);
    CHECK(out.find("### Fleet") == std::string::npos);
    CHECK(out.find("id=\"fleet\"") == std::string::npos);
    CHECK(out.find("#fleet") == std::string::npos);
    CHECK(out.find("chokepoint_fleet") == std::string::npos);
    CHECK(out.find("\"fleet\"") == std::string::npos);
  }
}
