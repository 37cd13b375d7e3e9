// The page's shared parts: escaping, colours, evidence values as HTML, badges, the style sheet.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "render/html_parts.hpp"
#include "render/svg.hpp"
#include "util/format.hpp"

namespace cp::html {

namespace {

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

}  // namespace

std::string esc(std::string_view s) {
  return svg::html_escape(s);
}

std::string esc_cut(const std::string& s, size_t max) {
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

std::string evidence_html(const json& evidence) {
  if (!evidence.is_object() || evidence.empty()) return "";
  std::string out = "<table class=\"kv evidence\"><tbody>";
  for (const auto& [k, v] : evidence.items())
    out += "<tr><th>" + esc(k) + "</th><td>" + value_html(v) + "</td></tr>";
  return out + "</tbody></table>";
}

std::string share_meter_html(std::string_view label, double share, std::string_view basis) {
  return fmt::format(
      "<div class=\"impact\">{} <div class=\"meter\"><span style=\"width:{:.1f}%\"></span></div><strong>{}"
      "</strong> of {}</div>",
      esc(label), std::clamp(share, 0.0, 1.0) * 100, esc(percent(share)), esc(basis));
}

std::string verdict_name(const Verdict& v) {
  return v.category ? std::string(to_string(*v.category)) : "none";
}

std::string severity_badge(Severity s) {
  return fmt::format("<span class=\"badge sev-{0}\">{0}</span>", to_string(s));
}

std::string baseline_badge(const std::string& status) {
  if (status.empty()) return "";
  return fmt::format("<span class=\"badge bl-{0}\">{0}</span>", esc(status));
}

const std::string_view kStyle = R"css(
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

}  // namespace cp::html
