#include "render/svg.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "util/format.hpp"

namespace cp::svg {

namespace {

constexpr double kLabelWidth = 190;
constexpr double kFontPx = 12;

// SVG numbers with at most one decimal: small files, no locale.
std::string n(double v) {
  if (!std::isfinite(v)) return "0";
  return fmt::format("{}", std::round(v * 10) / 10);
}

std::string open_svg(std::string_view chart, double width, double height, std::string_view title) {
  return fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
      html_escape(chart), n(width), n(height), html_escape(title));
}

std::string text(double x, double y, std::string_view s, std::string_view cls = "",
                 std::string_view anchor = "start") {
  return fmt::format("<text x=\"{}\" y=\"{}\"{}{}>{}</text>", n(x), n(y),
                     cls.empty() ? "" : fmt::format(" class=\"{}\"", cls),
                     anchor == "start" ? "" : fmt::format(" text-anchor=\"{}\"", anchor), html_escape(s));
}

std::string rect(double x, double y, double w, double h, std::string_view fill, std::string_view cls = "") {
  return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}{}/>", n(x), n(y),
                     n(std::max(w, 0.0)), n(h),
                     fill.empty() ? "" : fmt::format(" fill=\"{}\"", html_escape(fill)),
                     cls.empty() ? "" : fmt::format(" class=\"{}\"", cls));
}

// A label cut to what fits beside a bar; the full text stays in the tooltip (<title>).
std::string fit(std::string_view s, size_t max_chars) {
  std::string out(s);
  if (out.size() <= max_chars) return out;
  size_t cut = max_chars - 1;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  return out.substr(0, cut) + "…";
}

// Vertical grid lines and labels along a horizontal value axis from x0 to x1.
std::string value_axis(double x0, double x1, double top, double bottom, double max,
                       const std::function<std::string(double)>& label) {
  std::string out;
  double step = nice_step(max, 5);
  for (double v = 0; v <= max * 1.0001; v += step) {
    double x = x0 + (x1 - x0) * v / max;
    out += fmt::format("<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", n(x), n(top),
                       n(bottom));
    out += text(x, bottom + 14, label(v), "axis", "middle");
  }
  return out;
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

double nice_step(double max, int ticks) {
  if (!(max > 0) || !std::isfinite(max)) return 1;
  double raw = max / std::max(ticks, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string axis_number(double v) {
  if (v == 0) return "0";
  if (std::fabs(v) >= 1000) return human_count(v);
  if (std::fabs(v) >= 10) return fmt::format("{:.0f}", v);
  return fmt::format("{}", round_to(v, 2));
}

std::string probability_bars(std::string_view chart, const std::vector<Bar>& bars, double width) {
  const double row = 30, top = 8, bar_h = 18;
  const double x0 = 130, x1 = width - 170;
  double height = top + row * static_cast<double>(bars.size()) + 22;
  std::string out = open_svg(chart, width, height, "probability per category");
  out += value_axis(x0, x1, top - 4, height - 22, 1.0, [](double v) { return percent(v); });
  double y = top;
  for (const auto& b : bars) {
    out += "<g class=\"bar\">";
    out += text(0, y + bar_h - 5, b.label, b.muted ? "label muted" : "label");
    out += rect(x0, y, x1 - x0, bar_h, "", "track");
    if (b.muted)
      out += rect(x0, y, x1 - x0, bar_h, "", "unexamined");
    else
      out += rect(x0, y, (x1 - x0) * std::clamp(b.value, 0.0, 1.0), bar_h, b.color);
    out += text(x1 + 8, y + bar_h - 5, b.muted ? "—" : percent(b.value), "value");
    out += text(x1 + 58, y + bar_h - 5, b.note, "note");
    out += "</g>";
    y += row;
  }
  return out + "</svg>";
}

std::string stacked_bar(std::string_view chart, const std::vector<Segment>& segments, double width) {
  const double h = 26;
  std::string out = open_svg(chart, width, h + 2, "share of request time");
  double total = 0;
  for (const auto& s : segments) total += std::max(s.share, 0.0);
  if (total <= 0) total = 1;
  double x = 0;
  for (const auto& s : segments) {
    double w = width * std::max(s.share, 0.0) / total;
    if (w <= 0) continue;
    out += fmt::format("<g class=\"segment\"><title>{}: {}</title>", html_escape(s.label), percent(s.share));
    out += rect(x, 1, w, h, s.color);
    std::string caption = fmt::format("{} {}", s.label, percent(s.share));
    if (w > static_cast<double>(caption.size()) * 7 + 8)
      out += text(x + w / 2, 1 + h / 2 + 4, caption, "on-color", "middle");
    else if (w > 34)
      out += text(x + w / 2, 1 + h / 2 + 4, percent(s.share), "on-color", "middle");
    out += "</g>";
    x += w;
  }
  return out + "</svg>";
}

std::string grouped_bars(std::string_view chart, const std::vector<Row>& rows, std::string_view unit,
                         double width) {
  const double bar_h = 11, gap = 3, row_gap = 12, top = 6;
  const double x0 = kLabelWidth, x1 = width - 90;
  double max = 0;
  size_t markers = 0;
  for (const auto& r : rows) {
    markers = std::max(markers, r.markers.size());
    for (const auto& m : r.markers) max = std::max(max, m.value);
  }
  if (max <= 0) max = 1;
  double axis_max = std::ceil(max / nice_step(max, 5)) * nice_step(max, 5);
  double row_h = static_cast<double>(markers) * (bar_h + gap) + row_gap;
  double height = top + row_h * static_cast<double>(rows.size()) + 20;
  std::string out = open_svg(chart, width, height, fmt::format("latency percentiles ({})", unit));
  out += value_axis(x0, x1, top - 4, height - 20, axis_max,
                    [&](double v) { return unit == "ms" ? human_ms(v) : axis_number(v); });
  double y = top;
  static const char* shades[] = {"#9db9e0", "#4f7fc4", "#1f3f7a", "#0b1f44"};
  for (const auto& r : rows) {
    out += "<g class=\"bar\">";
    out += fmt::format("<title>{}</title>", html_escape(r.label));
    out += text(0, y + bar_h, fit(r.label, 28), "label");
    double yy = y;
    for (size_t i = 0; i < r.markers.size(); ++i) {
      const auto& m = r.markers[i];
      out += rect(x0, yy, (x1 - x0) * m.value / axis_max, bar_h, shades[std::min<size_t>(i, 3)]);
      out += text(x0 + (x1 - x0) * m.value / axis_max + 4, yy + bar_h - 2,
                  fmt::format("{} {}", m.label, unit == "ms" ? human_ms(m.value) : axis_number(m.value)),
                  "small");
      yy += bar_h + gap;
    }
    out += "</g>";
    y += row_h;
  }
  return out + "</svg>";
}

std::string histogram(std::string_view chart, const std::vector<Bin>& bins, std::string_view unit,
                      double width) {
  const double top = 10, bottom = 150, x0 = 48, x1 = width - 10;
  double max = 0;
  for (const auto& b : bins) max = std::max(max, b.count);
  if (max <= 0) max = 1;
  double step = nice_step(max, 4);
  double axis_max = std::ceil(max / step) * step;
  std::string out = open_svg(chart, width, bottom + 36, fmt::format("distribution ({})", unit));
  for (double v = 0; v <= axis_max * 1.0001; v += step) {
    double y = bottom - (bottom - top) * v / axis_max;
    out +=
        fmt::format("<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>", n(x0), n(x1), n(y));
    out += text(x0 - 6, y + 4, axis_number(v), "axis", "end");
  }
  double w = (x1 - x0) / static_cast<double>(std::max<size_t>(bins.size(), 1));
  auto label = [&](double v) { return unit == "ms" ? human_ms(v) : axis_number(v); };
  size_t every = std::max<size_t>(1, bins.size() / 6);
  for (size_t i = 0; i < bins.size(); ++i) {
    const auto& b = bins[i];
    double h = (bottom - top) * b.count / axis_max;
    double x = x0 + w * static_cast<double>(i);
    out += fmt::format("<g class=\"bin\"><title>{} – {}: {}</title>", label(b.lower), label(b.upper),
                       axis_number(b.count));
    out += rect(x + 1, bottom - h, w - 2, h, "#4f7fc4");
    out += "</g>";
    if (i % every == 0) out += text(x, bottom + 14, label(b.lower), "axis", "middle");
  }
  if (!bins.empty()) out += text(x1, bottom + 14, label(bins.back().upper), "axis", "end");
  out += text(x0, bottom + 30, "count per range", "axis");
  return out + "</svg>";
}

std::string line_chart(std::string_view chart, const std::vector<Line>& lines, double window_s,
                       std::string_view unit, double width) {
  const double top = 10, bottom = 170, x0 = 58, x1 = width - 12;
  double max = 0, t_max = window_s;
  for (const auto& l : lines)
    for (const auto& [t, v] : l.points) {
      max = std::max(max, v);
      t_max = std::max(t_max, t);
    }
  if (max <= 0) max = 1;
  if (t_max <= 0) t_max = 1;
  bool counts = true;  // whole numbers (sessions, clients, tasks): no half steps on the axis
  for (const auto& l : lines)
    for (const auto& [t, v] : l.points) counts = counts && v == std::floor(v);
  double step = counts ? std::max(1.0, nice_step(max, 4)) : nice_step(max, 4);
  double axis_max = std::ceil(max / step) * step;
  if (axis_max < max) axis_max += step;
  std::string out = open_svg(chart, width, bottom + 38, fmt::format("over the window ({})", unit));
  for (double v = 0; v <= axis_max * 1.0001; v += step) {
    double y = bottom - (bottom - top) * v / axis_max;
    out +=
        fmt::format("<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>", n(x0), n(x1), n(y));
    out += text(x0 - 6, y + 4, unit == "ms" ? human_ms(v) : axis_number(v), "axis", "end");
  }
  double t_step = nice_step(t_max, 6);
  for (double t = 0; t <= t_max * 1.0001; t += t_step)
    out += text(x0 + (x1 - x0) * t / t_max, bottom + 15, axis_number(t) + " s", "axis", "middle");
  out += text(x1, bottom + 32, "seconds since the window started", "axis", "end");
  auto px = [&](double t) { return x0 + (x1 - x0) * t / t_max; };
  auto py = [&](double v) { return bottom - (bottom - top) * v / axis_max; };
  for (const auto& l : lines) {
    out += fmt::format("<g class=\"line\"><title>{}</title>", html_escape(l.label));
    std::string pts;
    for (const auto& [t, v] : l.points) pts += fmt::format("{},{} ", n(px(t)), n(py(v)));
    if (l.points.size() > 1)
      out += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
          "stroke-linejoin=\"round\"/>",
          pts, html_escape(l.color));
    if (l.points.size() <= 60)
      for (const auto& [t, v] : l.points)
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>", n(px(t)), n(py(v)),
                           html_escape(l.color));
    out += "</g>";
  }
  return out + "</svg>";
}

}  // namespace cp::svg
