// Prometheus text exposition (for the node_exporter textfile collector or a Pushgateway).
// Low-cardinality labels only: rule, severity, category, probe, target name — never query text.
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "core/catalog.hpp"
#include "render/render.hpp"

namespace cp {

namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

double epoch_of(const std::string& rfc3339) {
  std::tm tm{};
  if (sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm));
}

}  // namespace

std::string render_prometheus(const Report& r) {
  std::string out;
  std::map<std::pair<std::string, std::string>, int> by_rule_severity;
  std::map<std::string, int> by_rule;
  for (const auto& f : r.findings) {
    ++by_rule_severity[{f.rule, std::string(to_string(f.severity))}];
    ++by_rule[f.rule];
  }
  family(out, "chokepoint_findings", "gauge", "Findings of the last run by rule and severity.");
  for (const auto& [key, n] : by_rule_severity) {
    const RuleSpec* spec = find_rule(key.first);
    out += fmt::format("chokepoint_findings{{rule=\"{}\",severity=\"{}\",category=\"{}\"}} {}\n",
                       label(key.first), key.second, spec ? to_string(spec->category) : "unknown", n);
  }
  family(out, "chokepoint_rule_findings", "gauge",
         "Findings of the last run per rule (0 when the rule found nothing).");
  for (const auto& spec : rule_catalog())
    out += fmt::format("chokepoint_rule_findings{{rule=\"{}\",category=\"{}\"}} {}\n", spec.id,
                       to_string(spec.category),
                       by_rule.count(std::string(spec.id)) ? by_rule[std::string(spec.id)] : 0);
  family(out, "chokepoint_probe_up", "gauge", "1 when the probe examined its target, 0 when it could not.");
  for (const auto& p : r.probes)
    out += fmt::format("chokepoint_probe_up{{probe=\"{}\",target=\"{}\"}} {}\n", label(p.name),
                       label(p.target), p.status == ProbeStatus::ok ? 1 : 0);
  family(out, "chokepoint_probe_duration_seconds", "gauge", "How long the probe took.");
  for (const auto& p : r.probes)
    out += fmt::format("chokepoint_probe_duration_seconds{{probe=\"{}\",target=\"{}\"}} {:.3f}\n",
                       label(p.name), label(p.target), p.duration_ms / 1000);
  family(out, "chokepoint_verdict", "gauge",
         "1 for the category the last run named as the bottleneck (none: no bottleneck).");
  std::string verdict = r.verdict.category ? std::string(to_string(*r.verdict.category)) : "none";
  for (const char* c : {"database", "network", "code", "infrastructure", "none"})
    out += fmt::format("chokepoint_verdict{{category=\"{}\"}} {}\n", c, verdict == c ? 1 : 0);
  family(out, "chokepoint_category_probability", "gauge",
         "The ranker's probability that the category holds the bottleneck.");
  for (const auto& e : r.ranking)
    out += fmt::format("chokepoint_category_probability{{category=\"{}\",examined=\"{}\"}} {}\n",
                       to_string(e.category), e.examined ? "true" : "false", e.probability);
  family(out, "chokepoint_gate_passed", "gauge", "1 when the CI gate passed, 0 when it failed.");
  out += fmt::format("chokepoint_gate_passed {}\n", r.gate.status == "pass" ? 1 : 0);
  family(out, "chokepoint_last_run_timestamp_seconds", "gauge", "When the last run started (Unix time).");
  out += fmt::format("chokepoint_last_run_timestamp_seconds {:.0f}\n", epoch_of(r.run.started_at));
  family(out, "chokepoint_run_duration_seconds", "gauge", "How long the last run took.");
  out += fmt::format("chokepoint_run_duration_seconds {:.3f}\n", r.run.duration_ms / 1000);
  return out;
}

}  // namespace cp
