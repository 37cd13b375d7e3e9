// A page to look at: one self-contained HTML file (inline CSS and SVG, no script, no external
// resource, a Content-Security-Policy that forbids loading any) with the verdict and coverage on
// top, the ranking, where request time goes per route, what was sampled over the window, the
// findings with their numbers and fixes, the gate and the baseline side by side. Renders only
// the report model; every string that came from a measured system is escaped.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "chokepoint/version.hpp"
#include "render/render.hpp"
#include "render/svg.hpp"
#include "util/format.hpp"

namespace cp {

namespace {

using svg::html_escape;

constexpr size_t kMaxFindings = 200;
constexpr size_t kMaxEvidenceRows = 40;
constexpr size_t kMaxTextChars = 4000;   // a statement text beyond this is cut (the JSON has it all)
constexpr size_t kMaxSeriesCharts = 40;  // charts of sampled series
constexpr size_t kMaxLinesPerChart = 8;
// Charts and findings stop being drawn past this page size (the JSON report has the rest), and each
// before/after list is cut: the page stays under 2 MiB whatever the measured systems hand over.
constexpr size_t kPageBudgetBytes = 1600 * 1024;
constexpr size_t kMaxSideRows = 100;
constexpr size_t kMaxLinePoints = 500;  // about one point per horizontal pixel of a chart

std::string esc(std::string_view s) {
  return html_escape(s);
}

// Escaped, and cut (on a character boundary) when a measured text is very long.
std::string esc_cut(const std::string& s, size_t max = kMaxTextChars) {
  if (s.size() <= max) return esc(s);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return esc(s.substr(0, cut)) +
         fmt::format("<span class=\"muted\">… ({} more bytes in the JSON report)</span>", s.size() - cut);
}

const char* category_color(std::string_view c) {
  if (c == "database") return "#3567b0";
  if (c == "network") return "#e07b2c";
  if (c == "code") return "#8a5cc2";
  if (c == "infrastructure") return "#2e9a8c";
  return "#8d96a0";
}

// Where request time goes: the parts of a route breakdown, in reading order.
const char* part_color(std::string_view part) {
  if (part == "database") return "#3567b0";
  if (part == "cache") return "#7fb2e5";
  if (part == "external") return "#e07b2c";
  if (part == "network") return "#f0c24b";
  if (part == "code") return "#8a5cc2";
  return "#a0a8b0";
}

const char* line_color(size_t i) {
  static const char* colors[] = {"#3567b0", "#e07b2c", "#2e9a8c", "#c2415d",
                                 "#8a5cc2", "#6b8e23", "#b07d2b", "#5f6b76"};
  return colors[i % 8];
}

std::string number(double d) {
  if (std::fabs(d) >= 1000) return human_count(d);
  if (d != 0 && std::fabs(d) < 1) return fmt::format("{:.3g}", d);
  return fmt::format("{}", round_to(d, 2));
}

std::string value_html(const json& v, int depth = 0);

std::string object_table(const json& rows) {
  std::vector<std::string> columns;
  for (const auto& row : rows)
    for (const auto& [k, _] : row.items())
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
  std::string out = "<table class=\"nested\"><thead><tr>";
  for (const auto& c : columns) out += "<th>" + esc(c) + "</th>";
  out += "</tr></thead><tbody>";
  size_t shown = 0;
  for (const auto& row : rows) {
    if (shown++ >= kMaxEvidenceRows) break;
    out += "<tr>";
    for (const auto& c : columns) out += "<td>" + (row.contains(c) ? value_html(row[c], 1) : "") + "</td>";
    out += "</tr>";
  }
  out += "</tbody></table>";
  if (rows.size() > kMaxEvidenceRows)
    out += fmt::format("<p class=\"muted\">… {} more rows in the JSON report</p>",
                       rows.size() - kMaxEvidenceRows);
  return out;
}

bool all_objects(const json& a) {
  return !a.empty() && std::all_of(a.begin(), a.end(), [](const json& e) { return e.is_object(); });
}

std::string value_html(const json& v, int depth) {
  if (v.is_null()) return "<span class=\"muted\">—</span>";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer() && std::fabs(v.get<double>()) >= 1e6) return esc(v.dump());  // ids, exact
  if (v.is_number()) return esc(number(v.get<double>()));
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > 60 || s.find('\n') != std::string::npos)
      return "<code class=\"long\">" + esc_cut(s) + "</code>";
    return esc(s);
  }
  if (v.is_array()) {
    if (depth == 0 && all_objects(v)) return object_table(v);
    std::string out;
    size_t shown = 0;
    for (const auto& e : v) {
      if (shown++ >= kMaxEvidenceRows) {
        out += fmt::format(" … {} more", v.size() - kMaxEvidenceRows);
        break;
      }
      out += (out.empty() ? "" : ", ") + value_html(e, depth + 1);
    }
    return out.empty() ? "<span class=\"muted\">none</span>" : out;
  }
  std::string out = "<dl class=\"inline\">";
  for (const auto& [k, e] : v.items())
    out += "<dt>" + esc(k) + "</dt><dd>" + value_html(e, depth + 1) + "</dd>";
  return out + "</dl>";
}

std::string verdict_name(const Verdict& v) {
  return v.category ? std::string(to_string(*v.category)) : "none";
}

constexpr std::string_view kStyle = R"css(
:root{--fg:#1d232a;--muted:#5c6773;--line:#dde2e7;--bg:#f6f7f9;--card:#fff;--ok:#1f7a3d;--fail:#b3261e}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:20px 24px 48px}
header.top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:8px;border-bottom:1px solid var(--line);padding-bottom:8px;margin-bottom:18px}
header.top h1{font-size:18px;margin:0;letter-spacing:.02em}
header.top .run{color:var(--muted);font-size:13px}
nav.toc{font-size:13px;margin:-8px 0 16px}nav.toc a{color:var(--muted);margin-right:14px;text-decoration:none}nav.toc a:hover{text-decoration:underline}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:0 0 6px}
section,article,.card{break-inside:avoid}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin-bottom:12px}
.summary{display:grid;grid-template-columns:minmax(0,1.6fr) minmax(0,1fr);gap:12px}
@media (max-width:820px){.summary,.side{grid-template-columns:minmax(0,1fr)!important}}
.verdict .label{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.verdict .category{font-size:30px;font-weight:700;line-height:1.1;margin:2px 0 4px}
.verdict .confidence{font-size:15px;color:var(--muted);font-weight:400;margin-left:8px}
.verdict .headline{font-size:17px;font-weight:600;margin:6px 0 0}
.gate-pass{color:var(--ok)}.gate-fail{color:var(--fail)}
.badge{display:inline-block;font-size:12px;font-weight:600;border-radius:10px;padding:1px 8px;border:1px solid currentColor;white-space:nowrap}
.sev-critical{color:#fff;background:#b3261e;border-color:#b3261e}.sev-high{color:#fff;background:#d9541e;border-color:#d9541e}
.sev-medium{color:#5a3e00;background:#f6c343;border-color:#f6c343}.sev-low{color:#fff;background:#3a7bd5;border-color:#3a7bd5}
.sev-info{color:#444;background:#e4e7eb;border-color:#e4e7eb}
.bl-new{color:#b3261e}.bl-regressed{color:#d9541e}.bl-unchanged{color:var(--muted)}.bl-resolved{color:var(--ok)}
ul.coverage{list-style:none;padding:0;margin:6px 0 0}ul.coverage li{padding:3px 0;border-top:1px dashed var(--line)}
ul.coverage li:first-child{border-top:0}
.yes{color:var(--ok);font-weight:700}.no{color:var(--muted);font-weight:700}
.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600;background:#fafbfc;overflow-wrap:normal}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:28%}
table.services{margin-top:10px}
table.probes td:first-child,table.probes td:nth-child(3){white-space:nowrap;overflow-wrap:normal}
table.nested{font-size:12.5px;margin:2px 0}
dl.inline{margin:0}dl.inline dt{display:inline;color:var(--muted)}dl.inline dt:after{content:": "}dl.inline dd{display:inline;margin:0 10px 0 0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
code.long{display:block;white-space:pre-wrap;overflow-wrap:anywhere;background:#f3f5f7;border-radius:4px;padding:4px 6px}
pre.fix{background:#0f1720;color:#e6edf3;border-radius:6px;padding:10px 12px;white-space:pre-wrap;overflow-wrap:anywhere;user-select:all;margin:6px 0}
.fix-label{font-size:12px;color:var(--muted);margin-top:8px}
svg.chart{display:block;width:100%;height:auto;overflow:visible;font-size:12px}
svg.chart text{fill:var(--fg)}svg.chart text.axis,svg.chart text.note,svg.chart text.muted{fill:var(--muted)}
svg.chart text.small{font-size:11px;fill:var(--muted)}svg.chart text.value{font-weight:600}
svg.chart text.on-color{fill:#fff;font-size:11.5px;font-weight:600}
svg.chart .grid{stroke:#e6e9ed;stroke-width:1}
svg.chart .track{fill:#eef1f4}
svg.chart .unexamined{fill:none;stroke:#b4bcc5;stroke-dasharray:4 3}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin-top:6px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend .sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.route .meta{font-size:13px;color:var(--muted);margin:-2px 0 8px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:12px}
.side{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px}
.finding header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:4px}
.finding .rule{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600}
.finding .component{color:var(--muted);font-size:13px;overflow-wrap:anywhere}
.finding h3{font-size:15.5px;margin:4px 0}
.finding .detail{margin:4px 0 8px;color:#36404a;overflow-wrap:anywhere}
.impact{display:flex;align-items:center;gap:8px;font-size:13px;color:var(--muted);margin:6px 0}
.impact .meter{width:160px;height:8px;background:#eef1f4;border-radius:4px;overflow:hidden}
.impact .meter span{display:block;height:100%;background:#c2415d}
details{margin-top:6px}summary{cursor:pointer;color:var(--muted);font-size:13px}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{
  @page{margin:14mm}
  body{background:#fff;font-size:10.5pt}
  main{max-width:none;padding:0}
  nav.toc{display:none}
  .card{border-color:#ccc;box-shadow:none}
  h2{break-after:avoid}
  pre.fix{background:#f3f5f7;color:#000;border:1px solid #ccc}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  details>*:not(summary){display:block}
}
)css";

class Page {
 public:
  explicit Page(const Report& r) : r_(r) {}

  std::string render() {
    head();
    out_ += "<main>";
    top();
    summary();
    ranking();
    routes();
    series();
    findings();
    comparison();
    probes();
    out_ += fmt::format(
        "<footer>chokepoint {} · report schema {} · rendered from the report model only; the "
        "JSON report has every number.</footer>",
        esc(kVersion), esc(kSchemaVersion));
    out_ += "</main></body></html>\n";
    return std::move(out_);
  }

 private:
  const Report& r_;
  std::string out_;

  void head() {
    out_ += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    // Nothing may be fetched: the page works offline and a hostile string can never load anything.
    out_ +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
        "'unsafe-inline'; img-src data:\">";
    out_ += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
    out_ += fmt::format("<title>chokepoint: {} — {}</title>", esc(verdict_name(r_.verdict)),
                        esc(one_line(r_.verdict.headline, 120)));
    out_ += "<style>" + std::string(kStyle) + "</style></head><body>";
  }

  void top() {
    std::string window = r_.run.window_s > 0 ? fmt::format("window {} s", round_to(r_.run.window_s, 2))
                                             : std::string("cumulative counters / offline input");
    out_ += fmt::format(
        "<header class=\"top\"><h1>chokepoint report</h1><div class=\"run\">{} · {}{} · took "
        "{}</div></header>",
        esc(r_.run.started_at), esc(window), r_.run.replayed ? " · replayed from saved evidence" : "",
        esc(human_ms(r_.run.duration_ms)));
    out_ += "<nav class=\"toc\"><a href=\"#verdict\">Verdict</a><a href=\"#ranking\">Ranking</a>";
    if (!r_.breakdowns.empty()) out_ += "<a href=\"#routes\">Routes</a>";
    if (!r_.series.empty()) out_ += "<a href=\"#window\">Over the window</a>";
    out_ += "<a href=\"#findings\">Findings</a>";
    if (r_.gate.baseline.file) out_ += "<a href=\"#baseline\">Before / after</a>";
    out_ += "<a href=\"#probes\">Probes</a></nav>";
  }

  void summary() {
    const auto& v = r_.verdict;
    out_ += "<div class=\"summary\" id=\"verdict\"><section class=\"card verdict\">";
    out_ += "<div class=\"label\">Verdict</div>";
    out_ += fmt::format("<div class=\"category\" data-verdict=\"{0}\" style=\"color:{1}\">{0}{2}</div>",
                        esc(verdict_name(v)), category_color(verdict_name(v)),
                        v.category
                            ? fmt::format("<span class=\"confidence\">{}</span>", esc(confidence_phrase(r_)))
                            : std::string());
    out_ += "<p class=\"headline\">" + esc_cut(v.headline) + "</p>";
    gate_line();
    out_ += "</section>";
    coverage();
    out_ += "</div>";
  }

  void gate_line() {
    const auto& g = r_.gate;
    bool pass = g.status == "pass";
    out_ += fmt::format(
        "<p class=\"gate\"><strong>Gate:</strong> <span class=\"badge {}\">{}</span> "
        "<span class=\"muted\">fail on {}{}</span></p>",
        pass ? "gate-pass" : "gate-fail", esc(g.status), esc(g.fail_on),
        g.baseline.file ? ", against the baseline " + esc(*g.baseline.file) : "");
    if (g.reasons.empty()) {
      out_ += fmt::format("<p class=\"muted\">{}</p>",
                          g.fail_on == "never" && !g.baseline.file
                              ? "No gate was asked for (--fail-on never): the run reports only."
                              : "Nothing at or above the gate's severity" +
                                    std::string(g.baseline.file ? " is new or regressed." : " was found."));
      return;
    }
    out_ += "<ul class=\"reasons\">";
    for (const auto& reason : g.reasons) out_ += "<li>" + esc_cut(reason, 600) + "</li>";
    out_ += "</ul>";
  }

  void coverage() {
    out_ += "<section class=\"card\"><h3>Coverage</h3><ul class=\"coverage\">";
    for (const auto& e : r_.ranking) {
      out_ += fmt::format("<li><span class=\"{}\">{}</span> <strong>{}</strong> ", e.examined ? "yes" : "no",
                          e.examined ? "✓" : "✗", esc(to_string(e.category)));
      if (e.examined)
        out_ += fmt::format("<span class=\"muted\">examined · {} finding{}</span>", e.findings.size(),
                            e.findings.size() == 1 ? "" : "s");
      else
        out_ += "<span class=\"muted\">not examined: " + esc_cut(e.not_examined_reason, 400) + "</span>";
      out_ += "</li>";
    }
    out_ += "</ul><p class=\"muted\" style=\"margin:8px 0 0;font-size:13px\">";
    std::vector<std::string> targets;
    for (const auto& t : r_.targets) targets.push_back(esc(t.kind) + " " + esc_cut(t.name, 200));
    out_ +=
        "Targets: " + (targets.empty() ? std::string("none") : fmt::format("{}", fmt::join(targets, " · ")));
    out_ += "</p></section>";
  }

  void ranking() {
    out_ += "<section id=\"ranking\"><h2>Where the bottleneck is: ranking</h2><div class=\"card\">";
    std::vector<svg::Bar> bars;
    for (const auto& e : r_.ranking) {
      svg::Bar b;
      b.label = std::string(to_string(e.category));
      b.value = e.probability;
      b.color = category_color(b.label);
      b.muted = !e.examined;
      b.note = e.examined ? fmt::format("{} finding{}", e.findings.size(), e.findings.size() == 1 ? "" : "s")
                          : "not examined";
      bars.push_back(std::move(b));
    }
    out_ += svg::probability_bars("ranking", bars);
    out_ +=
        "<p class=\"muted\" style=\"font-size:13px;margin:6px 0 0\">Probability that each category holds "
        "the bottleneck: the field's base rates moved by the findings' severity and impact, and by "
        "measured time attribution from traces. A dashed bar was not examined.</p>";
    out_ += "</div></section>";
  }

  // ---- routes (traces) ----

  static std::vector<svg::Segment> segments_of(const json& shares) {
    static const char* order[] = {"database", "cache", "external", "network", "code"};
    std::vector<svg::Segment> out;
    for (const char* part : order)
      if (shares.contains(part) && shares[part].is_number())
        out.push_back({part, shares[part].get<double>(), part_color(part)});
    for (const auto& [k, v] : shares.items())  // parts a newer report may add
      if (v.is_number() && std::find(std::begin(order), std::end(order), k) == std::end(order))
        out.push_back({k, v.get<double>(), part_color(k)});
    return out;
  }

  static std::string legend(const std::vector<svg::Segment>& segs) {
    std::string out = "<div class=\"legend\">";
    for (const auto& s : segs)
      out +=
          fmt::format("<span><span class=\"sw\" style=\"background:{}\"></span>{} <strong>{}</strong></span>",
                      esc(s.color), esc(s.label), esc(percent(s.share)));
    return out + "</div>";
  }

  static std::string route_name(const json& b) {
    std::string service = b.value("service", ""), route = b.value("route", "");
    return service.empty() ? route : service + " · " + route;
  }

  // A histogram a breakdown may carry: [{"lower_ms", "upper_ms", "count"}…].
  static std::vector<svg::Bin> bins_of(const json& b) {
    std::vector<svg::Bin> out;
    const json h = b.value("latency_histogram", json::array());
    if (!h.is_array()) return out;
    for (const auto& e : h)
      if (e.is_object())
        out.push_back({e.value("lower_ms", 0.0), e.value("upper_ms", 0.0), e.value("count", 0.0)});
    return out;
  }

  // Per service on the critical path: mean ms per request in each kind of wait and in code.
  void services_table(const json& services) {
    if (!services.is_array() || services.empty()) return;
    static const char* parts[] = {"database", "cache", "external", "network", "code"};
    out_ += "<table class=\"services\"><thead><tr><th>service on the path</th>";
    for (const char* p : parts)
      out_ += fmt::format("<th class=\"num\"><span class=\"sw\" style=\"background:{}\"></span>{}</th>",
                          part_color(p), p);
    out_ += "</tr></thead><tbody>";
    size_t shown = 0;
    for (const auto& s : services) {
      if (!s.is_object() || shown++ >= kMaxEvidenceRows) break;
      out_ += "<tr><td>" + esc_cut(s.value("service", ""), 200) + "</td>";
      for (const char* p : parts) {
        double ms = s.value(std::string(p) + "_ms", 0.0);
        out_ += "<td class=\"num\">" +
                (ms > 0 ? esc(human_ms(ms)) : std::string("<span class=\"muted\">—</span>")) + "</td>";
      }
      out_ += "</tr>";
    }
    out_ +=
        "</tbody></table><p class=\"muted\" style=\"font-size:12.5px;margin:4px 0 0\">mean per request, on "
        "the critical path</p>";
  }

  void routes() {
    if (r_.breakdowns.empty()) return;
    out_ += "<section id=\"routes\"><h2>Where request time goes, per entry route</h2>";
    out_ +=
        "<p class=\"muted\">From the traces that were read: each end-user request's critical path, split "
        "into the time spent waiting on each kind of dependency and in the application's own code.</p>";
    std::vector<svg::Row> percentiles;
    for (const auto& b : r_.breakdowns) {
      if (!b.is_object()) continue;
      out_ += "<article class=\"card route\">";
      out_ += "<h3>" + esc_cut(route_name(b), 400) + "</h3>";
      out_ += fmt::format(
          "<div class=\"meta\">{} requests · p50 {} · p95 {} · p99 {}{}</div>",
          esc(human_count(b.value("requests", 0.0))), esc(human_ms(b.value("p50_ms", 0.0))),
          esc(human_ms(b.value("p95_ms", 0.0))), esc(human_ms(b.value("p99_ms", 0.0))),
          b.contains("critical_path_ms")
              ? " · critical path " + esc(human_ms(b.value("critical_path_ms", 0.0))) + " per request"
              : std::string());
      auto segs = segments_of(b.value("shares", json::object()));
      out_ += svg::stacked_bar("route-time", segs) + legend(segs);
      if (auto bins = bins_of(b); !bins.empty()) out_ += svg::histogram("route-histogram", bins, "ms");
      services_table(b.value("services", json::array()));
      out_ += "</article>";
      percentiles.push_back({route_name(b),
                             {{"p50", b.value("p50_ms", 0.0)},
                              {"p95", b.value("p95_ms", 0.0)},
                              {"p99", b.value("p99_ms", 0.0)}}});
    }
    out_ += "<div class=\"card\"><h3>Latency percentiles per route</h3>";
    out_ += svg::grouped_bars("route-latency", percentiles, "ms");
    out_ += "</div></section>";
  }

  // ---- series sampled through the window ----

  struct SeriesGroup {
    std::string name, unit, target;
    std::vector<const Series*> members;
  };

  std::vector<SeriesGroup> series_groups() const {
    std::vector<SeriesGroup> groups;
    for (const auto& s : r_.series) {
      auto it = s.labels.find("target");
      std::string target = it == s.labels.end() ? "" : it->second;
      auto g = std::find_if(groups.begin(), groups.end(), [&](const SeriesGroup& x) {
        return x.name == s.name && x.unit == s.unit && x.target == target;
      });
      if (g == groups.end()) {
        groups.push_back({s.name, s.unit, target, {}});
        g = std::prev(groups.end());
      }
      g->members.push_back(&s);
    }
    return groups;
  }

  // What tells lines of one chart apart: the labels other than the target.
  static std::string line_label(const Series& s) {
    std::string out;
    for (const auto& [k, v] : s.labels)
      if (k != "target") out += (out.empty() ? "" : " · ") + k + "=" + v;
    return out.empty() ? s.name : out;
  }

  // At most `max` points, each run of neighbours drawn as its highest one (a peak stays visible).
  static std::vector<std::pair<double, double>> thinned(const std::vector<std::pair<double, double>>& points,
                                                        size_t max) {
    if (points.size() <= max) return points;
    size_t run = (points.size() + max - 1) / max;
    std::vector<std::pair<double, double>> out;
    for (size_t i = 0; i < points.size(); i += run) {
      auto peak = points[i];
      for (size_t k = i; k < std::min(i + run, points.size()); ++k)
        peak.second = std::max(peak.second, points[k].second);
      out.push_back(peak);
    }
    return out;
  }

  static std::vector<svg::Bin> distribution(const std::vector<const Series*>& members, size_t bins) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto* s : members)
      for (const auto& [_, v] : s->points) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    std::vector<svg::Bin> out;
    if (!(hi > lo)) return out;
    lo = 0;
    double step = svg::nice_step(hi, static_cast<int>(bins));
    for (double x = lo; x < hi; x += step) out.push_back({x, x + step, 0});
    for (const auto* s : members)
      for (const auto& [_, v] : s->points)
        out[std::min(out.size() - 1, static_cast<size_t>((v - lo) / step))].count += 1;
    return out;
  }

  void series() {
    if (r_.series.empty()) return;
    out_ += "<section id=\"window\"><h2>Over the window: what was sampled</h2><div class=\"grid2\">";
    size_t charts = 0;
    for (const auto& g : series_groups()) {
      if (charts++ >= kMaxSeriesCharts || out_.size() > kPageBudgetBytes) {
        out_ += "<p class=\"muted\">More series are in the JSON report.</p>";
        break;
      }
      out_ += "<article class=\"card\">";
      out_ += fmt::format("<h3>{} <span class=\"muted\">({})</span></h3>", esc(g.name), esc(g.unit));
      if (!g.target.empty())
        out_ += "<div class=\"muted\" style=\"font-size:13px\">" + esc_cut(g.target, 200) + "</div>";
      std::vector<svg::Line> lines;
      for (const auto* s : g.members) {
        if (lines.size() >= kMaxLinesPerChart) break;
        lines.push_back({line_label(*s), line_color(lines.size()), thinned(s->points, kMaxLinePoints)});
      }
      out_ += svg::line_chart("series", lines, r_.run.window_s, g.unit);
      out_ += "<div class=\"legend\">";
      for (const auto& l : lines) {
        double peak = 0;
        for (const auto& [_, v] : l.points) peak = std::max(peak, v);
        out_ += fmt::format(
            "<span><span class=\"sw\" style=\"background:{}\"></span>{} <span "
            "class=\"muted\">max {}</span></span>",
            esc(l.color), esc_cut(l.label, 200), esc(g.unit == "ms" ? human_ms(peak) : number(peak)));
      }
      if (g.members.size() > kMaxLinesPerChart)
        out_ += fmt::format("<span class=\"muted\">{} more in the JSON report</span>",
                            g.members.size() - kMaxLinesPerChart);
      out_ += "</div>";
      // Timings (ms) are also worth seeing as a distribution: the tail is what hurts.
      if (g.unit == "ms")
        if (auto bins = distribution(g.members, 24); !bins.empty()) {
          out_ += "<details open><summary>distribution</summary>";
          out_ += svg::histogram("series-histogram", bins, g.unit, svg::kHalf) + "</details>";
        }
      out_ += "</article>";
    }
    out_ += "</div></section>";
  }

  // ---- findings ----

  static std::string severity_badge(Severity s) {
    return fmt::format("<span class=\"badge sev-{0}\">{0}</span>", to_string(s));
  }

  static std::string baseline_badge(const std::string& status) {
    if (status.empty()) return "";
    return fmt::format("<span class=\"badge bl-{0}\">{0}</span>", esc(status));
  }

  void evidence_table(const Finding& f) {
    if (!f.evidence.is_object() || f.evidence.empty()) return;
    out_ += "<table class=\"kv evidence\"><tbody>";
    for (const auto& [k, v] : f.evidence.items())
      out_ += "<tr><th>" + esc(k) + "</th><td>" + value_html(v) + "</td></tr>";
    out_ += "</tbody></table>";
  }

  void thresholds_table(const Finding& f) {
    if (!f.thresholds.is_object() || f.thresholds.empty()) return;
    out_ +=
        "<details><summary>Thresholds and their sources</summary><table class=\"thresholds\"><thead><tr>"
        "<th>threshold</th><th class=\"num\">value</th><th>unit</th><th>source</th></tr></thead><tbody>";
    for (const auto& [k, t] : f.thresholds.items()) {
      if (!t.is_object()) continue;
      out_ += fmt::format("<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                          esc(k), value_html(t.value("value", json(nullptr)), 1), esc(t.value("unit", "")),
                          esc(t.value("source", "")));
    }
    out_ += "</tbody></table></details>";
  }

  void finding(const Finding& f) {
    out_ += fmt::format("<article class=\"card finding\" id=\"f-{}\"><header>", esc(f.id));
    out_ += severity_badge(f.severity) + baseline_badge(f.baseline);
    if (f.fails_gate) out_ += "<span class=\"badge gate-fail\">fails the gate</span>";
    out_ += "<span class=\"rule\">" + esc(f.rule) + "</span>";
    out_ += "<span class=\"component\">" + esc_cut(f.component, 300) + "</span></header>";
    out_ += "<h3>" + esc_cut(f.title, 1000) + "</h3>";
    if (!f.detail.empty()) out_ += "<p class=\"detail\">" + esc_cut(f.detail) + "</p>";
    if (f.impact.share)
      out_ += fmt::format(
          "<div class=\"impact\">impact <div class=\"meter\"><span style=\"width:{:.1f}%\"></span>"
          "</div><strong>{}</strong> of {}</div>",
          std::clamp(*f.impact.share, 0.0, 1.0) * 100, esc(percent(*f.impact.share)), esc(f.impact.basis));
    evidence_table(f);
    out_ += "<div class=\"fix-label\">Fix</div><p style=\"margin:2px 0\">" + esc_cut(f.remediation.summary) +
            "</p>";
    if (f.remediation.sql) out_ += "<pre class=\"fix sql\">" + esc_cut(*f.remediation.sql, 20000) + "</pre>";
    if (f.remediation.config)
      out_ += "<pre class=\"fix config\">" + esc_cut(*f.remediation.config, 20000) + "</pre>";
    thresholds_table(f);
    out_ += "</article>";
  }

  void findings() {
    out_ += fmt::format("<section id=\"findings\"><h2>Findings ({})</h2>", r_.findings.size());
    if (r_.findings.empty())
      out_ += "<div class=\"card muted\">Nothing notable was found in what was examined.</div>";
    size_t shown = 0;
    while (shown < std::min(r_.findings.size(), kMaxFindings) && out_.size() < kPageBudgetBytes)
      finding(r_.findings[shown++]);
    if (r_.findings.size() > shown)
      out_ += fmt::format("<p class=\"muted\">… {} more findings in the JSON report.</p>",
                          r_.findings.size() - shown);
    out_ += "</section>";
  }

  // ---- baseline: before and after ----

  void side_column(const char* title, const std::string& when, const Verdict& v,
                   const std::vector<RankEntry>& ranking,
                   const std::vector<std::pair<std::string, const Finding*>>& listed, const char* chart) {
    out_ +=
        fmt::format("<div class=\"card\"><h3>{}</h3><div class=\"muted\" style=\"font-size:13px\">{}</div>",
                    title, esc(when));
    out_ += fmt::format("<p><strong style=\"color:{}\">{}</strong>{} — {}</p>",
                        category_color(verdict_name(v)), esc(verdict_name(v)),
                        v.category ? " (" + esc(percent(v.confidence)) + " confidence)" : std::string(),
                        esc_cut(v.headline, 600));
    std::vector<svg::Bar> bars;
    for (const auto& e : ranking)
      bars.push_back({std::string(to_string(e.category)), e.probability,
                      category_color(to_string(e.category)), e.examined ? "" : "not examined", !e.examined});
    out_ += svg::probability_bars(chart, bars, svg::kHalf + 60);
    out_ += "<table><thead><tr><th>status</th><th>severity</th><th>finding</th></tr></thead><tbody>";
    for (size_t i = 0; i < std::min(listed.size(), kMaxSideRows); ++i) {
      const auto& [status, f] = listed[i];
      out_ +=
          fmt::format("<tr><td>{}</td><td>{}</td><td><code>{}</code> {}</td></tr>", baseline_badge(status),
                      severity_badge(f->severity), esc(f->rule), esc_cut(f->title, 400));
    }
    if (listed.size() > kMaxSideRows)
      out_ += fmt::format("<tr><td colspan=\"3\" class=\"muted\">… {} more in the JSON reports</td></tr>",
                          listed.size() - kMaxSideRows);
    if (listed.empty()) out_ += "<tr><td colspan=\"3\" class=\"muted\">no findings</td></tr>";
    out_ += "</tbody></table></div>";
  }

  void metric_changes() {
    const auto& changes = r_.gate.baseline.metric_changes;
    if (!changes.is_array() || changes.empty()) {
      out_ += "<p class=\"muted\">No compared metric changed beyond its tolerance.</p>";
      return;
    }
    out_ +=
        "<div class=\"card\"><h3>Metrics that changed</h3><table><thead><tr><th>metric</th><th>labels</th>"
        "<th class=\"num\">before</th><th class=\"num\">after</th><th class=\"num\">change</th><th></th>"
        "</tr></thead><tbody>";
    for (const auto& m : changes) {
      if (!m.is_object()) continue;
      std::string labels;
      const json label_map = m.value("labels", json::object());
      for (const auto& [k, v] : label_map.items())
        if (k != "target" && v.is_string())
          labels += (labels.empty() ? "" : " · ") + k + "=" + v.get<std::string>();
      json ratio = m.value("change_ratio", json(nullptr));
      bool worse = m.value("regressed", false);
      out_ += fmt::format(
          "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
          esc(m.value("name", "")), esc_cut(labels, 300), esc(number(m.value("baseline", 0.0))),
          esc(number(m.value("current", 0.0))),
          ratio.is_number() ? esc((ratio.get<double>() > 0 ? "+" : "") + percent(ratio.get<double>())) : "—",
          worse ? "bl-new" : "bl-resolved", worse ? "worse" : "better");
    }
    out_ += "</tbody></table></div>";
  }

  void comparison() {
    const auto& b = r_.gate.baseline;
    if (!b.file) return;
    out_ += "<section id=\"baseline\"><h2>Before and after</h2>";
    out_ += fmt::format(
        "<p>Against the baseline <code>{}</code>: <strong class=\"bl-new\">{} new</strong>, "
        "<strong class=\"bl-regressed\">{} regressed</strong>, <span class=\"bl-unchanged\">{} "
        "unchanged</span>, <strong class=\"bl-resolved\">{} resolved</strong>.</p>",
        esc_cut(*b.file, 300), b.new_ids.size(), b.regressed_ids.size(), b.unchanged_ids.size(),
        b.resolved_ids.size());
    std::vector<std::pair<std::string, const Finding*>> now;
    for (const auto& f : r_.findings) now.emplace_back(f.baseline, &f);
    out_ += "<div class=\"side\">";
    if (b.summary) {
      std::set<std::string> resolved(b.resolved_ids.begin(), b.resolved_ids.end());
      std::map<std::string, std::string> status_now;
      for (const auto& f : r_.findings) status_now[f.id] = f.baseline;
      std::vector<std::pair<std::string, const Finding*>> before;
      for (const auto& f : b.summary->findings)
        before.emplace_back(resolved.count(f.id) ? "resolved" : status_now[f.id], &f);
      side_column("Before (baseline)", b.summary->started_at, b.summary->verdict, b.summary->ranking, before,
                  "ranking-before");
    } else {
      out_ += "<div class=\"card muted\">The baseline's own verdict is not in this report.</div>";
    }
    side_column("After (this run)", r_.run.started_at, r_.verdict, r_.ranking, now, "ranking-after");
    out_ += "</div>";
    metric_changes();
    out_ += "</section>";
  }

  void probes() {
    out_ +=
        "<section id=\"probes\"><h2>Probes</h2><div class=\"card\"><table "
        "class=\"probes\"><thead><tr><th>probe</th>"
        "<th>target</th><th>status</th><th class=\"num\">took</th><th>notes</th></tr></thead><tbody>";
    for (const auto& p : r_.probes) {
      bool ok = p.status == ProbeStatus::ok;
      std::string notes;
      if (!p.message.empty()) notes += "<div class=\"gate-fail\">" + esc_cut(p.message, 1000) + "</div>";
      for (const auto& n : p.notes) notes += "<div class=\"muted\">" + esc_cut(n, 1000) + "</div>";
      out_ += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
          esc(p.name), esc_cut(p.target, 300), ok ? "gate-pass" : "gate-fail", esc(to_string(p.status)),
          esc(human_ms(p.duration_ms)), notes);
    }
    out_ += "</tbody></table></div></section>";
  }
};

}  // namespace

std::string render_html(const Report& report) {
  return Page(report).render();
}

}  // namespace cp
