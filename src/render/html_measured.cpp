// Where request time goes per route (traces) and what was sampled over the window (live probes):
// the measured sections of the page.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "render/html_parts.hpp"
#include "render/svg.hpp"
#include "util/format.hpp"

namespace cp::html {

namespace {

class Measured {
 public:
  Measured(const Report& r, std::string& out) : r_(r), out_(out) {}

  static std::vector<svg::Segment> segments_of(const json& shares) {
    static const char* order[] = {"database", "cache", "external", "network", "code"};
    std::vector<svg::Segment> out;
    for (const char* part : order)
      if (shares.contains(part) && shares[part].is_number())
        out.push_back({part, shares[part].get<double>(), part_color(part)});
    for (const auto& [k, v] : shares.items())  // parts a newer report may add
      if (v.is_number() && std::find(std::begin(order), std::end(order), k) == std::end(order))
        out.push_back({k, v.get<double>(), part_color(k)});
    return out;
  }

  static std::string legend(const std::vector<svg::Segment>& segs) {
    std::string out = "<div class=\"legend\">";
    for (const auto& s : segs)
      out +=
          fmt::format("<span><span class=\"sw\" style=\"background:{}\"></span>{} <strong>{}</strong></span>",
                      esc(s.color), esc(s.label), esc(percent(s.share)));
    return out + "</div>";
  }

  static std::string route_name(const json& b) {
    std::string service = b.value("service", ""), route = b.value("route", "");
    return service.empty() ? route : service + " · " + route;
  }

  // A histogram a breakdown may carry: [{"lower_ms", "upper_ms", "count"}…].
  static std::vector<svg::Bin> bins_of(const json& b) {
    std::vector<svg::Bin> out;
    const json h = b.value("latency_histogram", json::array());
    if (!h.is_array()) return out;
    for (const auto& e : h)
      if (e.is_object())
        out.push_back({e.value("lower_ms", 0.0), e.value("upper_ms", 0.0), e.value("count", 0.0)});
    return out;
  }

  // Per service on the critical path: mean ms per request in each kind of wait and in code.
  void services_table(const json& services) {
    if (!services.is_array() || services.empty()) return;
    static const char* parts[] = {"database", "cache", "external", "network", "code"};
    out_ += "<table class=\"services\"><thead><tr><th>service on the path</th>";
    for (const char* p : parts)
      out_ += fmt::format("<th class=\"num\"><span class=\"sw\" style=\"background:{}\"></span>{}</th>",
                          part_color(p), p);
    out_ += "</tr></thead><tbody>";
    size_t shown = 0;
    for (const auto& s : services) {
      if (!s.is_object() || shown++ >= kMaxEvidenceRows) break;
      out_ += "<tr><td>" + esc_cut(s.value("service", ""), 200) + "</td>";
      for (const char* p : parts) {
        double ms = s.value(std::string(p) + "_ms", 0.0);
        out_ += "<td class=\"num\">" +
                (ms > 0 ? esc(human_ms(ms)) : std::string("<span class=\"muted\">—</span>")) + "</td>";
      }
      out_ += "</tr>";
    }
    out_ +=
        "</tbody></table><p class=\"muted\" style=\"font-size:12.5px;margin:4px 0 0\">mean per request, on "
        "the critical path</p>";
  }

  void routes() {
    if (r_.breakdowns.empty()) return;
    out_ += "<section id=\"routes\"><h2>Where request time goes, per entry route</h2>";
    out_ +=
        "<p class=\"muted\">From the traces that were read: each end-user request's critical path, split "
        "into the time spent waiting on each kind of dependency and in the application's own code.</p>";
    std::vector<svg::Row> percentiles;
    for (const auto& b : r_.breakdowns) {
      if (!b.is_object()) continue;
      out_ += "<article class=\"card route\">";
      out_ += "<h3>" + esc_cut(route_name(b), 400) + "</h3>";
      out_ += fmt::format(
          "<div class=\"meta\">{} requests · p50 {} · p95 {} · p99 {}{}</div>",
          esc(human_count(b.value("requests", 0.0))), esc(human_ms(b.value("p50_ms", 0.0))),
          esc(human_ms(b.value("p95_ms", 0.0))), esc(human_ms(b.value("p99_ms", 0.0))),
          b.contains("critical_path_ms")
              ? " · critical path " + esc(human_ms(b.value("critical_path_ms", 0.0))) + " per request"
              : std::string());
      auto segs = segments_of(b.value("shares", json::object()));
      out_ += svg::stacked_bar("route-time", segs) + legend(segs);
      if (auto bins = bins_of(b); !bins.empty()) out_ += svg::histogram("route-histogram", bins, "ms");
      services_table(b.value("services", json::array()));
      out_ += "</article>";
      percentiles.push_back({route_name(b),
                             {{"p50", b.value("p50_ms", 0.0)},
                              {"p95", b.value("p95_ms", 0.0)},
                              {"p99", b.value("p99_ms", 0.0)}}});
    }
    out_ += "<div class=\"card\"><h3>Latency percentiles per route</h3>";
    out_ += svg::grouped_bars("route-latency", percentiles, "ms");
    out_ += "</div></section>";
  }

  struct SeriesGroup {
    std::string name, unit, target;
    std::vector<const Series*> members;
  };

  std::vector<SeriesGroup> series_groups() const {
    std::vector<SeriesGroup> groups;
    for (const auto& s : r_.series) {
      auto it = s.labels.find("target");
      std::string target = it == s.labels.end() ? "" : it->second;
      auto g = std::find_if(groups.begin(), groups.end(), [&](const SeriesGroup& x) {
        return x.name == s.name && x.unit == s.unit && x.target == target;
      });
      if (g == groups.end()) {
        groups.push_back({s.name, s.unit, target, {}});
        g = std::prev(groups.end());
      }
      g->members.push_back(&s);
    }
    return groups;
  }

  // What tells lines of one chart apart: the labels other than the target.
  static std::string line_label(const Series& s) {
    std::string out;
    for (const auto& [k, v] : s.labels)
      if (k != "target") out += (out.empty() ? "" : " · ") + k + "=" + v;
    return out.empty() ? s.name : out;
  }

  // At most `max` points, each run of neighbours drawn as its highest one (a peak stays visible).
  static std::vector<std::pair<double, double>> thinned(const std::vector<std::pair<double, double>>& points,
                                                        size_t max) {
    if (points.size() <= max) return points;
    size_t run = (points.size() + max - 1) / max;
    std::vector<std::pair<double, double>> out;
    for (size_t i = 0; i < points.size(); i += run) {
      auto peak = points[i];
      for (size_t k = i; k < std::min(i + run, points.size()); ++k)
        peak.second = std::max(peak.second, points[k].second);
      out.push_back(peak);
    }
    return out;
  }

  static std::vector<svg::Bin> distribution(const std::vector<const Series*>& members, size_t bins) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto* s : members)
      for (const auto& [_, v] : s->points) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    std::vector<svg::Bin> out;
    if (!(hi > lo)) return out;
    lo = 0;
    double step = svg::nice_step(hi, static_cast<int>(bins));
    for (double x = lo; x < hi; x += step) out.push_back({x, x + step, 0});
    for (const auto* s : members)
      for (const auto& [_, v] : s->points)
        out[std::min(out.size() - 1, static_cast<size_t>((v - lo) / step))].count += 1;
    return out;
  }

  void series() {
    if (r_.series.empty()) return;
    out_ += "<section id=\"window\"><h2>Over the window: what was sampled</h2><div class=\"grid2\">";
    size_t charts = 0;
    for (const auto& g : series_groups()) {
      if (charts++ >= kMaxSeriesCharts || out_.size() > kPageBudgetBytes) {
        out_ += "<p class=\"muted\">More series are in the JSON report.</p>";
        break;
      }
      out_ += "<article class=\"card\">";
      out_ += fmt::format("<h3>{} <span class=\"muted\">({})</span></h3>", esc(g.name), esc(g.unit));
      if (!g.target.empty())
        out_ += "<div class=\"muted\" style=\"font-size:13px\">" + esc_cut(g.target, 200) + "</div>";
      std::vector<svg::Line> lines;
      for (const auto* s : g.members) {
        if (lines.size() >= kMaxLinesPerChart) break;
        lines.push_back({line_label(*s), line_color(lines.size()), thinned(s->points, kMaxLinePoints)});
      }
      out_ += svg::line_chart("series", lines, r_.run.window_s, g.unit);
      out_ += "<div class=\"legend\">";
      for (const auto& l : lines) {
        double peak = 0;
        for (const auto& [_, v] : l.points) peak = std::max(peak, v);
        out_ += fmt::format(
            "<span><span class=\"sw\" style=\"background:{}\"></span>{} <span "
            "class=\"muted\">max {}</span></span>",
            esc(l.color), esc_cut(l.label, 200), esc(g.unit == "ms" ? human_ms(peak) : number(peak)));
      }
      if (g.members.size() > kMaxLinesPerChart)
        out_ += fmt::format("<span class=\"muted\">{} more in the JSON report</span>",
                            g.members.size() - kMaxLinesPerChart);
      out_ += "</div>";
      // Timings (ms) are also worth seeing as a distribution: the tail is what hurts.
      if (g.unit == "ms")
        if (auto bins = distribution(g.members, 24); !bins.empty()) {
          out_ += "<details open><summary>distribution</summary>";
          out_ += svg::histogram("series-histogram", bins, g.unit, svg::kHalf) + "</details>";
        }
      out_ += "</article>";
    }
    out_ += "</div></section>";
  }

 private:
  const Report& r_;
  std::string& out_;
};

}  // namespace

void routes_section(const Report& r, std::string& out) {
  Measured(r, out).routes();
}

void series_section(const Report& r, std::string& out) {
  Measured(r, out).series();
}

}  // namespace cp::html
