// Renderers only render: they read a finished report and never decide anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace cp {

enum class Format { text, json, markdown, junit, prometheus, sarif, html };
std::optional<Format> format_from_string(std::string_view s);

struct RenderOptions {
  bool color = false;  // text only
  size_t width = 100;  // text only: columns to wrap to (the terminal's, 100 when not a terminal)
};

// "99 % confidence", qualified by coverage when categories were not examined:
// "99 % confidence — 3 of 4 categories not examined".
std::string confidence_phrase(const Report& report);
// How many of the four categories no probe examined.
size_t unexamined_count(const Report& report);
// One line for stderr after --output: the verdict, the gate, where the report went.
std::string outcome_line(const Report& report, const std::string& path);

// The fleet section (--prometheus) as every format words it: "window ending 2026-12-08T02:00:00Z,
// range 300 s, 14 queries", and the instances per worst category: "database 2 · network 0 · code 0
// · infrastructure 3 · no finding 7" (the categories always, in their order; "no finding" when any).
inline constexpr size_t kMaxFleetListed = 10;  // instances text and markdown list (HTML, JSON: all)
std::string fleet_window(const Fleet& fleet);
std::string fleet_counts(const Fleet& fleet);
size_t fleet_clean(const Fleet& fleet);  // instances without a finding

std::string render(const Report& report, Format format, const RenderOptions& options = {});

std::string render_text(const Report& report, const RenderOptions& options);
std::string render_json(const Report& report);
std::string render_markdown(const Report& report);
std::string render_junit(const Report& report);
std::string render_prometheus(const Report& report);
std::string render_sarif(const Report& report);
std::string render_html(const Report& report);

// The Prometheus name of a report metric and the factor its value is multiplied by:
// ("pg.db_time_ms_per_s", "ms/s") -> chokepoint_pg_db_time_seconds_per_second, 0.001.
struct MetricFamily {
  std::string name;
  double scale = 1;
};
MetricFamily metric_family(const std::string& name, const std::string& unit);

}  // namespace cp
