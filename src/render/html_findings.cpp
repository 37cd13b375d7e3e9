// The findings with their evidence, fixes and thresholds, and the baseline's before and after.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "render/html_parts.hpp"
#include "render/svg.hpp"
#include "util/format.hpp"

namespace cp::html {

namespace {

class Judged {
 public:
  Judged(const Report& r, std::string& out) : r_(r), out_(out) {}

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
    if (f.impact.share) out_ += share_meter_html("impact", *f.impact.share, f.impact.basis);
    out_ += evidence_html(f.evidence);
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

 private:
  const Report& r_;
  std::string& out_;
};

}  // namespace

void findings_section(const Report& r, std::string& out) {
  Judged(r, out).findings();
}

void comparison_section(const Report& r, std::string& out) {
  Judged(r, out).comparison();
}

}  // namespace cp::html
