// Inline SVG charts for the HTML report: plain markup drawn from numbers, no script, no external
// resource. Every text that reaches a chart goes through html_escape.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cp::svg {

// viewBox widths: the page scales a chart to its column, so text stays near 12 px on a laptop.
inline constexpr double kFull = 1000;  // a chart across the page
inline constexpr double kHalf = 540;   // a chart in one of two columns

// Text and attribute values: & < > " ' escaped; control characters other than tab and newline
// become U+FFFD, so bytes from a measured system can never open markup.
std::string html_escape(std::string_view text);

struct Bar {
  std::string label;
  double value = 0;  // 0..1 for the ranking
  std::string color;
  std::string note;  // right of the bar ("2 findings", "not examined")
  bool muted = false;
};
// Horizontal bars of probabilities on a 0..100 % scale.
std::string probability_bars(std::string_view chart, const std::vector<Bar>& bars, double width = kFull);

struct Segment {
  std::string label;
  double share = 0;  // of the whole bar
  std::string color;
};
// One bar split into parts (where a route's request time goes).
std::string stacked_bar(std::string_view chart, const std::vector<Segment>& segments, double width = kFull);

struct Marker {
  std::string label;  // "p50"
  double value = 0;
};
struct Row {
  std::string label;
  std::vector<Marker> markers;
};
// Per row, bars for each marker (percentiles) on one shared axis so rows compare.
std::string grouped_bars(std::string_view chart, const std::vector<Row>& rows, std::string_view unit,
                         double width = kFull);

struct Bin {
  double lower = 0, upper = 0;
  double count = 0;
};
// Counts per value range.
std::string histogram(std::string_view chart, const std::vector<Bin>& bins, std::string_view unit,
                      double width = kFull);

struct Line {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> points;  // seconds, value
};
// Values over the window, one polyline per line, x in seconds.
std::string line_chart(std::string_view chart, const std::vector<Line>& lines, double window_s,
                       std::string_view unit, double width = kHalf);

// Round axis steps: 1, 2, 5 × 10^k covering `max` in about `ticks` steps.
double nice_step(double max, int ticks);
// A number for an axis label: 0.5, 12, 1.2k.
std::string axis_number(double v);

}  // namespace cp::svg
