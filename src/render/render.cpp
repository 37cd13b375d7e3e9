#include "render/render.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "util/format.hpp"

namespace cp {

std::optional<Format> format_from_string(std::string_view s) {
  if (s == "text") return Format::text;
  if (s == "json") return Format::json;
  if (s == "markdown") return Format::markdown;
  if (s == "junit") return Format::junit;
  if (s == "prometheus") return Format::prometheus;
  if (s == "sarif") return Format::sarif;
  if (s == "html") return Format::html;
  return std::nullopt;
}

size_t unexamined_count(const Report& report) {
  size_t n = 0;
  for (const auto& e : report.ranking) n += !e.examined;
  return n;
}

std::string confidence_phrase(const Report& report) {
  std::string out = percent(report.verdict.confidence) + " confidence";
  if (size_t n = unexamined_count(report); n > 0)
    out += fmt::format(" — {} of {} categories not examined", n, report.ranking.size());
  return out;
}

std::string outcome_line(const Report& report, const std::string& path) {
  std::string verdict = report.verdict.category ? fmt::format("{} ({})", to_string(*report.verdict.category),
                                                              confidence_phrase(report))
                                                : "none";
  std::string gate =
      report.gate.fail_on == "never" && !report.gate.baseline.file ? "" : ", gate " + report.gate.status;
  return fmt::format("chokepoint: verdict {}{}; {} finding{}; report written to {}", verdict, gate,
                     report.findings.size(), report.findings.size() == 1 ? "" : "s", path);
}

std::string fleet_window(const Fleet& fleet) {
  return fmt::format("window ending {}, range {} s, {} quer{}", fleet.at.empty() ? "?" : fleet.at,
                     round_to(fleet.range_s, 1), fleet.queries, fleet.queries == 1 ? "y" : "ies");
}

size_t fleet_clean(const Fleet& fleet) {
  return fleet.instances_of(std::nullopt);
}

std::string fleet_counts(const Fleet& fleet) {
  std::string out;
  for (Category c : kCategories)
    out += fmt::format("{}{} {}", out.empty() ? "" : " · ", to_string(c), fleet.instances_of(c));
  if (size_t clean = fleet_clean(fleet); clean > 0) out += fmt::format(" · no finding {}", clean);
  return out;
}

std::string render(const Report& report, Format format, const RenderOptions& options) {
  switch (format) {
    case Format::text:
      return render_text(report, options);
    case Format::json:
      return render_json(report);
    case Format::markdown:
      return render_markdown(report);
    case Format::junit:
      return render_junit(report);
    case Format::prometheus:
      return render_prometheus(report);
    case Format::sarif:
      return render_sarif(report);
    case Format::html:
      return render_html(report);
  }
  throw std::logic_error("unknown format");
}

}  // namespace cp
