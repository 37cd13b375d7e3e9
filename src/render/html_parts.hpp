// The HTML page's parts (src/render/html*.cpp), internal to the renderer: limits, escaping,
// colours, evidence values as HTML, the style sheet, and the sections drawn in files of their own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace cp::html {

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

std::string esc(std::string_view s);
// Escaped, and cut (on a character boundary) when a measured text is very long.
std::string esc_cut(const std::string& s, size_t max = kMaxTextChars);
const char* category_color(std::string_view c);
const char* part_color(std::string_view part);  // the parts of a route breakdown
const char* line_color(size_t i);
std::string number(double d);
std::string value_html(const json& v, int depth = 0);  // an evidence value: tables, lists, text
std::string verdict_name(const Verdict& v);
std::string severity_badge(Severity s);
std::string baseline_badge(const std::string& status);
// A finding's or an advice's numbers as a key/value table ("" when there are none).
std::string evidence_html(const json& evidence);
// "label [meter] 40 % of basis": a share drawn as a bar.
std::string share_meter_html(std::string_view label, double share, std::string_view basis);
extern const std::string_view kStyle;

// Sections, each appended to the page so far (some stop drawing past kPageBudgetBytes).
void routes_section(const Report& r, std::string& out);      // html_measured.cpp
void series_section(const Report& r, std::string& out);      // html_measured.cpp
void findings_section(const Report& r, std::string& out);    // html_findings.cpp
void comparison_section(const Report& r, std::string& out);  // html_findings.cpp
void advice_section(const Report& r, std::string& out);      // html_advice.cpp
void fleet_section(const Report& r, std::string& out);       // html_fleet.cpp

}  // namespace cp::html
