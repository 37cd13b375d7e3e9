// The fleet a source such as --prometheus examined: where from and which window, the instances per
// worst category, one row per instance (worst first: its kind, worst category and severity, top
// finding, findings) and what could not be judged. Every name and label came from the measured
// systems' exporters: all of it is escaped.
#include <fmt/format.h>

#include "render/html_parts.hpp"
#include "render/render.hpp"
#include "util/format.hpp"

namespace cp::html {

namespace {

// Instance rows stop past half the page's budget (the findings after them need the rest); the JSON
// report lists every instance.
constexpr size_t kFleetBudgetBytes = kPageBudgetBytes / 2;

std::string labels_html(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : " · ") + esc(k) + "=" + esc_cut(v, 300);
  return out.empty() ? out : "<div class=\"muted\" style=\"font-size:12px\">" + out + "</div>";
}

std::string instance_row(const FleetInstance& i) {
  std::string category = i.category ? std::string(to_string(*i.category)) : "";
  std::string top = i.top.empty() ? "<span class=\"muted\">—</span>" : esc_cut(i.top, 600);
  if (!i.findings.empty() && !i.top.empty())
    top = fmt::format("<a href=\"#f-{}\" style=\"color:inherit\">{}</a>", esc(i.findings.front()), top);
  return fmt::format(
      "<tr><td>{}{}</td><td{nowrap}>{}</td><td{nowrap}>{}</td><td{nowrap}>{}</td><td>{}</td><td "
      "class=\"num\">{}</td></tr>",
      esc_cut(i.name, 300), labels_html(i.labels), esc(i.kind),
      i.category ? fmt::format("<span class=\"sw\" style=\"background:{}\"></span>{}", category_color(category),
                               esc(category))
                 : "<span class=\"muted\">none</span>",
      i.severity ? severity_badge(*i.severity) : "<span class=\"gate-pass\">ok</span>", top, i.findings.size(),
      fmt::arg("nowrap", " style=\"white-space:nowrap\""));
}

void counts(const Fleet& fl, std::string& out) {
  out += "<div class=\"legend\">";
  for (Category c : kCategories)
    out += fmt::format("<span><span class=\"sw\" style=\"background:{}\"></span>{} <strong>{}</strong></span>",
                       category_color(to_string(c)), to_string(c), fl.instances_of(c));
  out += fmt::format("<span>no finding <strong>{}</strong></span></div>", fleet_clean(fl));
}

}  // namespace

void fleet_section(const Report& r, std::string& out) {
  if (!r.fleet) return;
  const Fleet& fl = *r.fleet;
  out += fmt::format("<section id=\"fleet\"><h2>Fleet: {} instance{} examined</h2><div class=\"card\">",
                     fl.instances.size(), fl.instances.size() == 1 ? "" : "s");
  out += fmt::format("<p class=\"muted\" style=\"font-size:13px;margin:0 0 6px\">{} · {}</p>",
                     esc_cut(fl.source, 600), esc(fleet_window(fl)));
  counts(fl, out);
  if (!fl.instances.empty())
    out +=
        "<table class=\"fleet\" style=\"margin-top:10px\"><thead><tr><th>instance</th><th>kind</th>"
        "<th>worst category</th><th>severity</th><th>top finding</th><th class=\"num\">findings</th></tr>"
        "</thead><tbody>";
  size_t shown = 0;
  while (shown < fl.instances.size() && out.size() < kFleetBudgetBytes) out += instance_row(fl.instances[shown++]);
  if (fl.instances.size() > shown)
    out += fmt::format("<tr><td colspan=\"6\" class=\"muted\">… {} more instances in the JSON report</td></tr>",
                       fl.instances.size() - shown);
  if (!fl.instances.empty()) out += "</tbody></table>";
  if (!fl.not_examined.empty()) {
    out += "<div class=\"fix-label\">Not examined</div><ul>";
    for (const auto& n : fl.not_examined) out += "<li>" + esc_cut(n, 1000) + "</li>";
    out += "</ul>";
  }
  out += "</div></section>";
}

}  // namespace cp::html
