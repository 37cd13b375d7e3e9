// The ten-second report: verdict and headline, ranking bars, the fleet's worst instances (when a
// fleet source was examined), findings by severity with their numbers and fix, what was not examined and why, then the probes.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "chokepoint/version.hpp"
#include "render/render.hpp"
#include "util/format.hpp"
#include "util/term.hpp"

namespace cp {

namespace {

constexpr int kBarWidth = 24;

std::string severity_sgr(Severity s) {
  switch (s) {
    case Severity::critical:
      return "1;31";
    case Severity::high:
      return "31";
    case Severity::medium:
      return "33";
    case Severity::low:
      return "36";
    case Severity::info:
      return "2";
  }
  return "0";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Everything the text report writes goes through one Page: its width is the terminal's.
struct Page {
  Style style;
  size_t width = kDefaultTextWidth;
  std::string wrap(const std::string& text, size_t indent) const { return word_wrap(text, indent, width); }
  // `text` wrapped at `indent`, its first line without the indent (a label already fills it); an
  // empty text just ends the line.
  std::string after_label(const std::string& text, size_t indent) const {
    std::string wrapped = wrap(text, indent);
    return wrapped.size() >= indent ? wrapped.substr(indent - 1) : "\n";
  }
  // One line as composed (its spacing kept) when it fits; otherwise wrapped, continuation lines
  // indented by `continuation` spaces.
  std::string line(const std::string& text, size_t continuation) const {
    if (display_width(text) <= width) return text + "\n";
    size_t lead = text.find_first_not_of(' ');
    if (lead == std::string::npos) return "\n";
    std::string wrapped = word_wrap(text.substr(lead), continuation, width);
    return std::string(lead, ' ') + wrapped.substr(continuation);
  }
};

std::string bar(double p) {
  int filled = static_cast<int>(std::lround(p * kBarWidth));
  std::string out;
  for (int i = 0; i < kBarWidth; ++i) out += i < filled ? "█" : "░";
  return out;
}

std::string evidence_value(const json& v) {
  if (v.is_number_integer()) return human_count(v.get<double>());
  if (v.is_number()) {
    double d = v.get<double>();
    if (std::fabs(d) >= 1000) return human_count(d);
    return std::fabs(d) < 1 && d != 0 ? fmt::format("{:.3g}", d) : fmt::format("{}", round_to(d, 2));
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ",") + evidence_value(e);
    return out;
  }
  return v.dump();
}

// The numbers behind a finding on one or two lines; long texts (queries) are already in the detail.
std::string evidence_line(const Finding& f) {
  std::string out;
  for (const auto& [key, v] : f.evidence.items()) {
    if (v.is_null() || v.is_object() || key == "queryid" || key == "queryids" ||
        key.find("query") != std::string::npos)
      continue;
    std::string value = evidence_value(v);
    if (value.size() > 40) continue;
    out += (out.empty() ? "" : "  ") + key + "=" + value;
  }
  return out;
}

std::string acknowledged_until(const FindingAcknowledgement& a) {
  if (!a.until) return "";
  return a.expired ? " (expired on " + *a.until + ", counts again)" : " until " + *a.until;
}

void render_findings(std::string& out, const Report& r, const Page& page) {
  const Style& st = page.style;
  out += st.paint(fmt::format("FINDINGS ({})", r.findings.size()), "1") + "\n";
  if (r.findings.empty()) out += "  none\n";
  for (const auto& f : r.findings) {
    std::string tag = fmt::format("{:<10}", upper(to_string(f.severity)));
    out += "  " + st.paint(tag, severity_sgr(f.severity)) + st.paint(f.rule, "1") + "  " + f.component;
    if (!f.baseline.empty()) out += "  [" + f.baseline + "]";
    if (f.acknowledgement)
      out += f.acknowledgement->expired ? "  [acknowledgement expired]" : "  [acknowledged]";
    out += "\n";
    out += page.wrap(f.title, 4);
    if (f.acknowledgement)
      out += page.wrap(fmt::format("acknowledged{}: {}", acknowledged_until(*f.acknowledgement),
                                   f.acknowledgement->reason),
                       4);
    if (!f.detail.empty()) out += st.paint(page.wrap(f.detail, 4), "2");
    if (auto ev = evidence_line(f); !ev.empty()) out += page.wrap("numbers: " + ev, 4);
    out += page.wrap("fix: " + f.remediation.summary, 4);
    if (f.remediation.sql) out += "      " + st.paint(*f.remediation.sql, "32") + "\n";
    if (f.remediation.config) {
      std::istringstream lines(*f.remediation.config);
      for (std::string line; std::getline(lines, line);) out += "      " + st.paint(line, "32") + "\n";
    }
    out += "\n";
  }
}

// Probability bars for the categories a probe examined; the others are listed apart (NOT EXAMINED):
// a prior is not a measurement.
void render_ranking(std::string& out, const Report& r, const Page& page) {
  out += page.style.paint("RANKING", "1") + "\n";
  size_t shown = 0;
  for (const auto& e : r.ranking) {
    if (!e.examined) continue;
    ++shown;
    out += fmt::format("  {:<15} {} {:>5}  {} finding{}\n", to_string(e.category), bar(e.probability),
                       percent(e.probability), e.findings.size(), e.findings.size() == 1 ? "" : "s");
  }
  if (shown == 0) out += "  no category could be examined (see NOT EXAMINED and PROBES)\n";
  if (shown > 0 && shown < r.ranking.size())
    out += page.wrap(fmt::format("{} of {} categories not examined (listed under NOT EXAMINED): what they "
                                 "would show is unknown",
                                 r.ranking.size() - shown, r.ranking.size()),
                     2);
  out += "\n";
}

// The fleet a source such as --prometheus examined: where from, which window, the instances per worst
// category, the worst instances (at most kMaxFleetListed) and what could not be judged.
void render_fleet(std::string& out, const Report& r, const Page& page) {
  if (!r.fleet) return;
  const Fleet& fl = *r.fleet;
  const Style& st = page.style;
  out += st.paint(fmt::format("FLEET ({} instance{} examined)", fl.instances.size(),
                              fl.instances.size() == 1 ? "" : "s"),
                  "1") +
         "\n";
  out += page.wrap("source: " + fl.source, 2);
  out += page.wrap(fleet_window(fl), 2);
  out += page.wrap("by worst finding: " + fleet_counts(fl), 2);
  for (size_t n = 0; n < std::min(fl.instances.size(), kMaxFleetListed); ++n) {
    const FleetInstance& i = fl.instances[n];
    std::string tag = i.severity ? st.paint(fmt::format("{:<10}", upper(to_string(*i.severity))),
                                            severity_sgr(*i.severity))
                                 : st.paint(fmt::format("{:<10}", "ok"), "32");
    std::string what =
        i.category ? fmt::format("{} · {} · {} finding{}", i.kind, to_string(*i.category), i.findings.size(),
                                 i.findings.size() == 1 ? "" : "s")
                   : i.kind + " · no finding";
    out += page.line("  " + tag + i.name + "  " + what, 12);
    if (!i.top.empty()) out += page.wrap(i.top, 12);
  }
  if (fl.instances.size() > kMaxFleetListed)
    out += page.wrap(fmt::format("… and {} more (the JSON and HTML reports list every instance)",
                                 fl.instances.size() - kMaxFleetListed),
                     2);
  for (const auto& n : fl.not_examined) out += page.wrap("not examined: " + n, 2);
  out += "\n";
}

void render_not_examined(std::string& out, const Report& r, const Page& page) {
  if (unexamined_count(r) == 0) return;
  out += page.style.paint("NOT EXAMINED", "1") + "\n";
  for (const auto& e : r.ranking)
    if (!e.examined)
      out += fmt::format("  {:<15}", to_string(e.category)) + page.after_label(e.not_examined_reason, 18);
  out += "\n";
}

// Acknowledgements that matched nothing (a typo?) or expired: said wherever the gate is shown.
void render_acknowledgements(std::string& out, const Report& r, const Page& page) {
  for (const auto& a : r.gate.acknowledgements) {
    std::string subject = a.id ? "id " + *a.id : "rule " + a.rule.value_or("?");
    if (a.findings.empty())
      out += page.wrap(
          fmt::format("- [[acknowledge]] {} matches no finding (a typo, or fixed: remove it)", subject), 2);
    else if (a.expired)
      out +=
          page.wrap(fmt::format("- [[acknowledge]] {} expired on {}: {} finding{} count again", subject,
                                a.until.value_or("?"), a.findings.size(), a.findings.size() == 1 ? "" : "s"),
                    2);
  }
}

// What to do next: the levers the measurements call for, after the findings.
void render_advice(std::string& out, const Report& r, const Page& page) {
  const Style& st = page.style;
  if (r.advice.empty()) return;
  out += st.paint(fmt::format("ADVICE BEFORE YOU SCALE ({})", r.advice.size()), "1") + "\n";
  for (const auto& a : r.advice) {
    out += "  " + st.paint(a.id, "1") +
           fmt::format("  {}  ({} confidence)\n", a.component, percent(a.confidence));
    out += page.wrap(a.title, 4);
    if (!a.detail.empty()) out += st.paint(page.wrap(a.detail, 4), "2");
    std::string numbers;
    for (const auto& [key, v] : a.evidence.items()) {
      std::string value = evidence_value(v);
      if (v.is_null() || v.is_object() || value.size() > 40 || key.find("query") != std::string::npos)
        continue;
      numbers += (numbers.empty() ? "" : "  ") + key + "=" + value;
    }
    if (!numbers.empty()) out += page.wrap("numbers: " + numbers, 4);
    if (!a.expected_gain.summary.empty()) out += page.wrap("gain: " + a.expected_gain.summary, 4);
    for (const auto& p : a.preconditions) out += page.wrap("if: " + p, 4);
    if (a.config) {
      std::istringstream lines(*a.config);
      for (std::string line; std::getline(lines, line);) out += "      " + st.paint(line, "32") + "\n";
    }
    out += "\n";
  }
}

void render_breakdowns(std::string& out, const Report& r) {
  if (r.breakdowns.empty()) return;
  out += "TIME BREAKDOWN (share of request time)\n";
  for (const auto& b : r.breakdowns) {
    out += fmt::format("  {} {}  requests={}  p50={}  p95={}  p99={}\n", b.value("service", ""),
                       b.value("route", ""), human_count(b.value("requests", 0.0)),
                       human_ms(b.value("p50_ms", 0.0)), human_ms(b.value("p95_ms", 0.0)),
                       human_ms(b.value("p99_ms", 0.0)));
    std::string parts;
    const json shares = b.value("shares", json::object());
    for (const auto& [k, v] : shares.items())
      parts += fmt::format("{}{} {}", parts.empty() ? "" : " · ", k, percent(v.get<double>()));
    out += "    " + parts + "\n";
    for (const auto& svc : b.value("services", json::array())) {  // per request, on the critical path
      std::string line;
      for (const char* k : {"database", "cache", "external", "network", "code"}) {
        double v = svc.value(std::string(k) + "_ms", 0.0);
        if (v > 0) line += fmt::format("{}{} {}", line.empty() ? "" : " · ", k, human_ms(v));
      }
      if (!line.empty()) out += fmt::format("      {}: {}\n", svc.value("service", ""), line);
    }
  }
  out += "\n";
}

void render_probes(std::string& out, const Report& r, const Page& page) {
  const Style& st = page.style;
  out += st.paint("PROBES", "1") + "\n";
  for (const auto& p : r.probes) {
    std::string status = p.status == ProbeStatus::ok ? st.paint("ok   ", "32") : st.paint("ERROR", "1;31");
    out += page.line(fmt::format("  {} {} {}  {}", status, p.name, p.target, human_ms(p.duration_ms)), 8);
    if (!p.message.empty()) out += page.wrap(p.message, 8);
    for (const auto& n : p.notes) out += page.wrap("note: " + n, 8);
  }
}

}  // namespace

std::string render_text(const Report& r, const RenderOptions& options) {
  Page page{Style{options.color}, options.width};
  const Style& st = page.style;
  std::string out;
  out +=
      page.line(fmt::format(
                    "chokepoint {} · {} · {}{}{}", kVersion,
                    r.run.window_s > 0 ? fmt::format("window {} s", r.run.window_s) : "cumulative counters",
                    r.run.started_at, r.run.replayed ? " · replayed" : "",
                    r.run.interrupted ? fmt::format(" · INTERRUPTED after {:.1f} s", r.run.duration_ms / 1000)
                                      : ""),
                2) +
      "\n";

  std::string verdict = r.verdict.category ? upper(to_string(*r.verdict.category)) : "NONE";
  std::string sgr = r.verdict.category ? "1;31" : "1;32";
  out += page.line(st.paint("VERDICT  " + verdict, sgr) +
                       (r.verdict.category ? fmt::format("  ({})", confidence_phrase(r)) : ""),
                   2);
  out += page.wrap(st.paint(r.verdict.headline, "1"), 2) + "\n";

  render_ranking(out, r, page);
  render_fleet(out, r, page);
  render_findings(out, r, page);
  render_advice(out, r, page);
  render_breakdowns(out, r);
  render_not_examined(out, r, page);

  render_probes(out, r, page);

  if (r.gate.fail_on != "never" || r.gate.baseline.file || !r.gate.acknowledgements.empty() ||
      !r.gate.notes.empty()) {
    out += "\n" + st.paint("GATE", "1") + "  " +
           (r.gate.status == "pass"         ? st.paint("pass", "1;32")
            : r.gate.status == "incomplete" ? st.paint("INCOMPLETE", "1;33")
                                            : st.paint("FAIL", "1;31")) +
           fmt::format(" (fail on {}{})\n", r.gate.fail_on,
                       r.gate.baseline.file ? ", baseline " + *r.gate.baseline.file : "");
    for (const auto& reason : r.gate.reasons) out += page.wrap("- " + reason, 2);
    render_acknowledgements(out, r, page);
    for (const auto& note : r.gate.notes) out += page.wrap("note: " + note, 2);
    const auto& b = r.gate.baseline;
    if (b.file) {
      out += fmt::format(
          "  against the baseline: {} new, {} regressed, {} unchanged, {} resolved{}\n", b.new_ids.size(),
          b.regressed_ids.size(), b.unchanged_ids.size(), b.resolved_ids.size(),
          b.unverified_ids.empty() ? "" : fmt::format(", {} not checked", b.unverified_ids.size()));
      for (const auto& m : b.metric_changes)
        out += fmt::format("  metric {} {} -> {} ({})\n", m.value("name", ""),
                           round_to(m.value("baseline", 0.0), 3), round_to(m.value("current", 0.0), 3),
                           m.value("regressed", false) ? "worse" : "better");
    }
  }
  return out;
}

}  // namespace cp
