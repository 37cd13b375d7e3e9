// A bounded summary for a CI job page or a pull-request comment: verdict, the gate and why,
// ranking, the fleet's worst instances (with a fleet source), the top findings and every kind of
// fix they carry, what changed against the baseline (resolved findings named), the probes. Never
// more than kMaxBytes (GitHub's comment limit is 65,536 characters), whatever the report holds.
// One function per section.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "render/render.hpp"
#include "util/format.hpp"

namespace cp {

namespace {

constexpr size_t kMaxFindings = 25;
constexpr size_t kMaxFixes = 10;
constexpr size_t kMaxListed = 20;
constexpr size_t kMaxSnippet = 1500;
constexpr size_t kMaxBytes = 60 * 1024;  // under GitHub's 65,536, with room for a caller's own lines

std::string cell(const std::string& text, size_t max = 160) {
  std::string out;
  for (char c : one_line(text, max)) {
    if (c == '|')
      out += "\\|";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

const char* severity_mark(Severity s) {
  switch (s) {
    case Severity::critical:
      return "🔴 critical";
    case Severity::high:
      return "🟠 high";
    case Severity::medium:
      return "🟡 medium";
    case Severity::low:
      return "🔵 low";
    case Severity::info:
      return "⚪ info";
  }
  return "";
}

std::string title_of(const Report& r, const std::string& id) {
  for (const auto& f : r.findings)
    if (f.id == id) return f.rule + ": " + f.title;
  return id;
}

std::string plural(size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// A fenced code block that cannot be closed early by its content.
std::string fenced(const std::string& lang, std::string code) {
  if (code.size() > kMaxSnippet) code = code.substr(0, kMaxSnippet) + "\n…";
  std::string fence = "```";
  while (code.find(fence) != std::string::npos) fence += "`";
  if (!code.empty() && code.back() == '\n') code.pop_back();
  return "  " + fence + lang + "\n" + code + "\n  " + fence + "\n";
}

void render_header(std::string& out, const Report& r) {
  std::string verdict = r.verdict.category ? std::string(to_string(*r.verdict.category)) : "none";
  out += fmt::format("## chokepoint: {}{}\n\n", verdict,
                     r.verdict.category ? " (" + confidence_phrase(r) + ")" : std::string());
  out += "> " + cell(r.verdict.headline, 300) + "\n\n";
}

// Why the gate passed or failed: the threshold, and what met it or why nothing counted.
std::string gate_why(const Report& r) {
  const Gate& g = r.gate;
  if (g.status == "fail") return fmt::format("{} failed it", plural(g.reasons.size(), "reason"));
  if (g.status != "pass") return "the run is incomplete";
  if (g.fail_on == "never" &&
      !std::any_of(r.findings.begin(), r.findings.end(), [](const Finding& f) { return f.level == "error"; }))
    return "no threshold (`--fail-on never`): findings are reported, none fails the run";
  auto threshold = severity_from_string(g.fail_on);
  size_t at_or_above = 0, unchanged = 0, warn = 0;
  for (const auto& f : r.findings) {
    if (!threshold || f.severity < *threshold) continue;
    ++at_or_above;
    if (f.level == "warn")
      ++warn;
    else if (f.baseline == "unchanged")
      ++unchanged;
  }
  if (at_or_above == 0) return fmt::format("no finding at or above {}", g.fail_on);
  std::string why =
      fmt::format("{} at or above {}, none counted:", plural(at_or_above, "finding"), g.fail_on);
  if (unchanged) why += fmt::format(" {} unchanged from the baseline", unchanged);
  if (warn) why += fmt::format("{} {} at rule level warn", unchanged ? "," : "", warn);
  return why;
}

void render_gate(std::string& out, const Report& r) {
  const auto& b = r.gate.baseline;
  const char* mark = r.gate.status == "pass" ? "✅ pass" : r.gate.status == "fail" ? "❌ fail" : "⚠️ ";
  out += fmt::format("**Gate:** {}{} — {} (fail on {}{})", mark,
                     r.gate.status == "pass" || r.gate.status == "fail" ? "" : r.gate.status, gate_why(r),
                     r.gate.fail_on, b.file ? ", baseline `" + cell(*b.file, 80) + "`" : "");
  if (b.file)
    out += fmt::format(": {} new, {} regressed, {} unchanged, {} resolved", b.new_ids.size(),
                       b.regressed_ids.size(), b.unchanged_ids.size(), b.resolved_ids.size());
  out += "\n\n";
  for (size_t i = 0; i < std::min(r.gate.reasons.size(), kMaxListed); ++i)
    out += "- " + cell(r.gate.reasons[i], 240) + "\n";
  if (r.gate.reasons.size() > kMaxListed)
    out += fmt::format("- … and {} more\n", r.gate.reasons.size() - kMaxListed);
  for (size_t i = 0; i < std::min(r.gate.notes.size(), kMaxListed); ++i)
    out += "- note: " + cell(r.gate.notes[i], 240) + "\n";
  if (!r.gate.reasons.empty() || !r.gate.notes.empty()) out += "\n";
  for (const auto& a : r.gate.acknowledgements) {
    std::string subject = a.id ? "`" + *a.id + "`" : "`" + a.rule.value_or("?") + "`";
    if (a.findings.empty())
      out += "- ⚠️ acknowledgement " + subject + " matches no finding\n";
    else if (a.expired)
      out += fmt::format("- ⚠️ acknowledgement {} expired on {}: counts again\n", subject,
                         a.until.value_or("?"));
  }
}

void render_ranking(std::string& out, const Report& r) {
  out += "| Category | Probability | Examined | Findings |\n|---|---:|---|---:|\n";
  for (const auto& e : r.ranking)
    out += fmt::format("| {} | {} | {} | {} |\n", to_string(e.category),
                       e.examined ? percent(e.probability) : "—",
                       e.examined ? "yes" : "no — " + cell(e.not_examined_reason, 80), e.findings.size());
}

// The fleet a source such as --prometheus examined: source and window, the instances per worst
// category, the worst instances (at most kMaxFleetListed) and what could not be judged.
void render_fleet(std::string& out, const Report& r) {
  if (!r.fleet) return;
  const Fleet& fl = *r.fleet;
  out += fmt::format("\n### Fleet ({} examined)\n\n", plural(fl.instances.size(), "instance"));
  out += fmt::format("Source `{}` · {}  \n**By worst finding:** {}\n", cell(fl.source, 300),
                     cell(fleet_window(fl)), fleet_counts(fl));
  if (!fl.instances.empty())
    out += "\n| Instance | Kind | Worst category | Severity | Top finding | Findings |\n"
           "|---|---|---|---|---|---:|\n";
  for (size_t n = 0; n < std::min(fl.instances.size(), kMaxFleetListed); ++n) {
    const FleetInstance& i = fl.instances[n];
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", cell(i.name, 120), cell(i.kind, 40),
                       i.category ? to_string(*i.category) : "—",
                       i.severity ? severity_mark(*i.severity) : "✅ ok", i.top.empty() ? "—" : cell(i.top),
                       i.findings.size());
  }
  if (fl.instances.size() > kMaxFleetListed)
    out += fmt::format("\n… and {} more in the JSON report.\n", fl.instances.size() - kMaxFleetListed);
  if (!fl.not_examined.empty()) out += "\n**Not examined:**\n";
  for (size_t n = 0; n < std::min(fl.not_examined.size(), kMaxListed); ++n)
    out += "- " + cell(fl.not_examined[n], 240) + "\n";
  if (fl.not_examined.size() > kMaxListed)
    out += fmt::format("- … and {} more\n", fl.not_examined.size() - kMaxListed);
}

// Every kind of remediation a finding carries: the summary, a statement, a configuration snippet.
void render_fix(std::string& out, const Finding& f) {
  out += fmt::format("- **{}** ({}) — {}\n", f.rule, cell(f.component, 60), cell(f.remediation.summary, 400));
  if (f.remediation.sql) out += fenced("sql", *f.remediation.sql);
  if (f.remediation.config) out += fenced("", *f.remediation.config);
}

void render_findings(std::string& out, const Report& r) {
  out += fmt::format("\n### Findings ({})\n\n", r.findings.size());
  if (r.findings.empty()) return;
  out += "| Severity | Rule | Component | Finding | Baseline |\n|---|---|---|---|---|\n";
  for (size_t i = 0; i < std::min(r.findings.size(), kMaxFindings); ++i) {
    const auto& f = r.findings[i];
    std::string state = f.baseline;
    if (f.acknowledgement)
      state += (state.empty() ? "" : ", ") +
               std::string(f.acknowledgement->expired ? "ack expired: " : "acknowledged: ") +
               cell(f.acknowledgement->reason, 120);
    out += fmt::format("| {} | `{}` | {} | {} | {} |\n", severity_mark(f.severity), f.rule,
                       cell(f.component, 60), cell(f.title), state);
  }
  if (r.findings.size() > kMaxFindings)
    out += fmt::format("\n… and {} more in the JSON report.\n", r.findings.size() - kMaxFindings);
  out += "\n<details><summary>Fixes</summary>\n\n";
  for (size_t i = 0; i < std::min(r.findings.size(), kMaxFixes); ++i) render_fix(out, r.findings[i]);
  if (r.findings.size() > kMaxFixes)
    out += fmt::format("\n… the fixes of {} more findings are in the JSON report.\n",
                       r.findings.size() - kMaxFixes);
  out += "\n</details>\n";
}

// The levers the measurements call for, after the findings: one row each, details folded.
void render_advice(std::string& out, const Report& r) {
  if (r.advice.empty()) return;
  out += fmt::format("\n### Advice before you scale ({})\n\n", r.advice.size());
  out += "| Advice | Component | What | Expected gain | Confidence |\n|---|---|---|---|---:|\n";
  for (size_t i = 0; i < std::min(r.advice.size(), kMaxFindings); ++i) {
    const auto& a = r.advice[i];
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", a.id, cell(a.component, 60), cell(a.title),
                       cell(a.expected_gain.summary, 200), percent(a.confidence));
  }
  out += "\n<details><summary>Advice details</summary>\n\n";
  for (size_t i = 0; i < std::min(r.advice.size(), kMaxFixes); ++i) {
    const auto& a = r.advice[i];
    out += fmt::format("- **{}** — {}\n", a.id, cell(a.detail, 600));
    for (const auto& p : a.preconditions) out += "  - if: " + cell(p, 240) + "\n";
    if (a.config) out += fenced("ini", *a.config);
  }
  out += "\n</details>\n";
}

void render_baseline(std::string& out, const Report& r) {
  const auto& b = r.gate.baseline;
  if (!b.file) return;
  out += "\n### Against the baseline\n\n";
  auto list = [&](const char* label, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    out += fmt::format("**{}** ({}):\n", label, ids.size());
    for (size_t i = 0; i < std::min(ids.size(), kMaxListed); ++i)
      out += "- " + cell(title_of(r, ids[i]), 200) + "\n";
    if (ids.size() > kMaxListed) out += fmt::format("- … and {} more\n", ids.size() - kMaxListed);
    out += "\n";
  };
  list("New", b.new_ids);
  list("Regressed", b.regressed_ids);
  if (!b.resolved_ids.empty()) {
    out += fmt::format("**Resolved** ({}): in the baseline, no longer seen\n", b.resolved_ids.size());
    size_t n = 0;
    for (const auto& f : b.resolved_findings) {
      if (n++ >= kMaxListed) break;
      out += fmt::format("- ~~{}~~ `{}` {}: {}\n", f.value("severity", ""), f.value("rule", ""),
                         cell(f.value("component", ""), 60), cell(f.value("title", ""), 200));
    }
    if (b.resolved_findings.empty())  // a report written before resolved_findings existed
      for (size_t i = 0; i < std::min(b.resolved_ids.size(), kMaxListed); ++i)
        out += "- `" + b.resolved_ids[i] + "`\n";
    if (b.resolved_ids.size() > kMaxListed)
      out += fmt::format("- … and {} more\n", b.resolved_ids.size() - kMaxListed);
    out += "\n";
  }
  if (!b.metric_changes.empty()) {
    out += "| Metric | Baseline | Current | Change |\n|---|---:|---:|---|\n";
    size_t n = 0;
    for (const auto& m : b.metric_changes) {
      if (n++ >= kMaxListed) break;
      out +=
          fmt::format("| `{}` | {} | {} | {} |\n", m.value("name", ""), round_to(m.value("baseline", 0.0), 3),
                      round_to(m.value("current", 0.0), 3), m.value("regressed", false) ? "worse" : "better");
    }
    out += "\n";
  }
}

void render_probes(std::string& out, const Report& r) {
  out += "\n### Probes\n\n| Probe | Target | Status |\n|---|---|---|\n";
  for (const auto& p : r.probes)
    out += fmt::format("| {} | {} | {} |\n", p.name, cell(p.target, 80),
                       p.status == ProbeStatus::ok ? "ok" : "error: " + cell(p.message, 200));
  out +=
      fmt::format("\n<sub>chokepoint · {} · {}</sub>\n", r.run.started_at,
                  r.run.window_s > 0 ? fmt::format("window {} s", r.run.window_s) : std::string("no window"));
}

// Cut at a UTF-8 boundary, closing a code fence or a <details> the cut left open.
std::string bounded(std::string out) {
  if (out.size() <= kMaxBytes) return out;
  size_t cut = kMaxBytes - 256;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  size_t fences = 0;
  for (size_t p = out.find("```"); p != std::string::npos; p = out.find("```", p + 3)) ++fences;
  if (fences % 2) out += "\n```";
  auto count = [&](const char* s) {
    size_t n = 0;
    for (size_t p = out.find(s); p != std::string::npos; p = out.find(s, p + 1)) ++n;
    return n;
  };
  if (count("<details>") > count("</details>")) out += "\n</details>";
  return out + "\n\n… (truncated: see the JSON report)\n";
}

}  // namespace

std::string render_markdown(const Report& r) {
  std::string out;
  render_header(out, r);
  render_gate(out, r);
  render_ranking(out, r);
  render_fleet(out, r);
  render_findings(out, r);
  render_advice(out, r);
  render_baseline(out, r);
  render_probes(out, r);
  return bounded(std::move(out));
}

}  // namespace cp
