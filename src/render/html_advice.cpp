// What to do before scaling: the advice entries (which lever the measured workload calls for, which it
// does not, and what each would buy), with their numbers and configuration sketches.
#include <fmt/format.h>

#include "render/html_parts.hpp"
#include "util/format.hpp"

namespace cp::html {

namespace {

void advice_card(const Advice& a, std::string& out) {
  out += fmt::format("<article class=\"card advice\" id=\"a-{}\"><header><span class=\"rule\">{}</span>",
                     esc(a.id), esc(a.id));
  out += "<span class=\"component\">" + esc_cut(a.component, 300) + "</span></header>";
  out += "<h3>" + esc_cut(a.title, 1000) + "</h3>";
  if (!a.detail.empty()) out += "<p class=\"detail\">" + esc_cut(a.detail) + "</p>";
  if (a.expected_gain.share)
    out += share_meter_html("expected gain", *a.expected_gain.share, a.expected_gain.basis);
  if (!a.expected_gain.summary.empty())
    out += "<p style=\"margin:2px 0\"><strong>Gain:</strong> " + esc_cut(a.expected_gain.summary) + "</p>";
  if (!a.preconditions.empty()) {
    out += "<div class=\"fix-label\">Before you do it</div><ul>";
    for (const auto& p : a.preconditions) out += "<li>" + esc_cut(p) + "</li>";
    out += "</ul>";
  }
  if (a.config) out += "<pre class=\"fix config\">" + esc_cut(*a.config, 20000) + "</pre>";
  out += evidence_html(a.evidence);
  out += fmt::format(
      "<p class=\"muted\" style=\"font-size:13px\">confidence {}{}</p>", esc(percent(a.confidence)),
      a.measured_by.empty()
          ? ""
          : " · measured by " + esc_cut(fmt::format("{}", fmt::join(a.measured_by, ", ")), 1000));
  out += "</article>";
}

}  // namespace

void advice_section(const Report& r, std::string& out) {
  if (r.advice.empty()) return;
  out += "<section id=\"advice\"><h2>Before you scale</h2>";
  for (const auto& a : r.advice) advice_card(a, out);
  out += "</section>";
}

}  // namespace cp::html
