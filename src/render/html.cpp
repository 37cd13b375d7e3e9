// A page to look at: one self-contained HTML file (inline CSS and SVG, no script, no external
// resource, a Content-Security-Policy that forbids loading any) with the verdict and coverage on
// top, the ranking, the fleet's instances (with a fleet source), where request time goes per
// route, what was sampled over the window, the findings with their numbers and fixes, the gate and
// the baseline side by side. Renders only the report model; every string that came from a
// measured system is escaped.
#include <fmt/format.h>

#include "chokepoint/version.hpp"
#include "render/html_parts.hpp"
#include "render/render.hpp"
#include "render/svg.hpp"
#include "util/format.hpp"

namespace cp {

namespace html {

namespace {

class Page {
 public:
  explicit Page(const Report& r) : r_(r) {}

  std::string render() {
    head();
    out_ += "<main>";
    top();
    summary();
    ranking();
    html::fleet_section(r_, out_);
    html::routes_section(r_, out_);
    html::series_section(r_, out_);
    html::findings_section(r_, out_);
    html::advice_section(r_, out_);
    html::comparison_section(r_, out_);
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
    if (r_.fleet) out_ += "<a href=\"#fleet\">Fleet</a>";
    if (!r_.breakdowns.empty()) out_ += "<a href=\"#routes\">Routes</a>";
    if (!r_.series.empty()) out_ += "<a href=\"#window\">Over the window</a>";
    out_ += "<a href=\"#findings\">Findings</a>";
    if (!r_.advice.empty()) out_ += "<a href=\"#advice\">Before you scale</a>";
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

}  // namespace html

std::string render_html(const Report& report) {
  return html::Page(report).render();
}

}  // namespace cp
