// A bounded summary for a CI job page or a pull-request comment: verdict, ranking, the top
// findings and their fixes, what changed against the baseline, the probes. Never more than
// kMaxBytes, whatever the report holds.
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
constexpr size_t kMaxBytes = 64 * 1024;

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

}  // namespace

std::string render_markdown(const Report& r) {
  std::string out;
  std::string verdict = r.verdict.category ? std::string(to_string(*r.verdict.category)) : "none";
  out +=
      fmt::format("## chokepoint: {}{}\n\n", verdict,
                  r.verdict.category ? fmt::format(" ({} confidence)", percent(r.verdict.confidence)) : "");
  out += "> " + cell(r.verdict.headline, 300) + "\n\n";

  const auto& b = r.gate.baseline;
  out += fmt::format("**Gate:** {} (fail on {}{})", r.gate.status == "pass" ? "✅ pass" : "❌ fail",
                     r.gate.fail_on, b.file ? ", baseline `" + cell(*b.file, 80) + "`" : "");
  if (b.file)
    out += fmt::format(": {} new, {} regressed, {} unchanged, {} resolved", b.new_ids.size(),
                       b.regressed_ids.size(), b.unchanged_ids.size(), b.resolved_ids.size());
  out += "\n\n";
  for (size_t i = 0; i < std::min(r.gate.reasons.size(), kMaxListed); ++i)
    out += "- " + cell(r.gate.reasons[i], 240) + "\n";
  if (!r.gate.reasons.empty()) out += "\n";

  out += "| Category | Probability | Examined | Findings |\n|---|---:|---|---:|\n";
  for (const auto& e : r.ranking)
    out += fmt::format("| {} | {} | {} | {} |\n", to_string(e.category), percent(e.probability),
                       e.examined ? "yes" : "no — " + cell(e.not_examined_reason, 80), e.findings.size());

  out += fmt::format("\n### Findings ({})\n\n", r.findings.size());
  if (!r.findings.empty()) {
    out += "| Severity | Rule | Component | Finding | Baseline |\n|---|---|---|---|---|\n";
    for (size_t i = 0; i < std::min(r.findings.size(), kMaxFindings); ++i) {
      const auto& f = r.findings[i];
      out += fmt::format("| {} | `{}` | {} | {} | {} |\n", severity_mark(f.severity), f.rule,
                         cell(f.component, 60), cell(f.title), f.baseline.empty() ? "" : f.baseline);
    }
    if (r.findings.size() > kMaxFindings)
      out += fmt::format("\n… and {} more in the JSON report.\n", r.findings.size() - kMaxFindings);
    out += "\n<details><summary>Fixes</summary>\n\n";
    for (size_t i = 0; i < std::min(r.findings.size(), kMaxFixes); ++i) {
      const auto& f = r.findings[i];
      out += fmt::format("- **{}** — {}\n", f.rule, cell(f.remediation.summary, 400));
      if (f.remediation.sql) out += "  ```sql\n  " + one_line(*f.remediation.sql, 400) + "\n  ```\n";
    }
    out += "\n</details>\n";
  }

  if (b.file) {
    out += "\n### Against the baseline\n\n";
    auto list = [&](const char* label, const std::vector<std::string>& ids) {
      if (ids.empty()) return;
      out += fmt::format("**{}** ({}):\n", label, ids.size());
      for (size_t i = 0; i < std::min(ids.size(), kMaxListed); ++i)
        out += "- " + cell(title_of(r, ids[i]), 200) + "\n";
      out += "\n";
    };
    list("New", b.new_ids);
    list("Regressed", b.regressed_ids);
    if (!b.resolved_ids.empty())
      out += fmt::format("**Resolved**: {} finding{} of the baseline no longer seen.\n\n",
                         b.resolved_ids.size(), b.resolved_ids.size() == 1 ? "" : "s");
    if (!b.metric_changes.empty()) {
      out += "| Metric | Baseline | Current | Change |\n|---|---:|---:|---|\n";
      size_t n = 0;
      for (const auto& m : b.metric_changes) {
        if (n++ >= kMaxListed) break;
        out += fmt::format("| `{}` | {} | {} | {} |\n", m.value("name", ""),
                           round_to(m.value("baseline", 0.0), 3), round_to(m.value("current", 0.0), 3),
                           m.value("regressed", false) ? "worse" : "better");
      }
      out += "\n";
    }
  }

  out += "\n### Probes\n\n| Probe | Target | Status |\n|---|---|---|\n";
  for (const auto& p : r.probes)
    out += fmt::format("| {} | {} | {} |\n", p.name, cell(p.target, 80),
                       p.status == ProbeStatus::ok ? "ok" : "error: " + cell(p.message, 200));
  out +=
      fmt::format("\n<sub>chokepoint · {} · {}</sub>\n", r.run.started_at,
                  r.run.window_s > 0 ? fmt::format("window {} s", r.run.window_s) : std::string("no window"));
  if (out.size() > kMaxBytes) {
    size_t cut = kMaxBytes - 64;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "\n\n… (truncated: see the JSON report)\n";
  }
  return out;
}

}  // namespace cp
