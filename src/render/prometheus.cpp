// Prometheus text exposition (for the node_exporter textfile collector or a Pushgateway).
// Low-cardinality labels only: rule, severity, category, probe, target name without its port —
// never query text, never a value that changes from run to run (one exception: a fleet instance's
// name, chokepoint_fleet_instance_severity's `instance`, is what the fleet source reports, and pods
// come and go). The report's metrics[] are exported under conventional names: chokepoint_<name>,
// milliseconds as seconds, "per_s" as "per_second" (metric_family); the fleet's own (fleet.*) come
// from the fleet section when the report has one.
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/catalog.hpp"
#include "core/gate.hpp"
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

std::string stable_target(const std::string& target) {
  return label(target_without_port(target));
}

// A label set as Prometheus writes it: {a="x",b="y"} (empty when there is none).
std::string label_set(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels)
    out +=
        fmt::format("{}{}=\"{}\"", out.empty() ? "{" : ",", k, k == "target" ? stable_target(v) : label(v));
  return out.empty() ? out : out + "}";
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

// The report's metrics[], grouped into families (one HELP/TYPE each); a series repeated with the
// same labels (two targets that differ only by port) is written once.
void render_report_metrics(std::string& out, const Report& r) {
  std::map<std::string, std::vector<const Metric*>> families;
  std::map<std::string, MetricFamily> meta;
  for (const auto& m : r.metrics) {
    // The fleet's counts are written from the fleet section itself (render_fleet_metrics): its
    // chokepoint_fleet_instances is by category, with the same sum.
    if (r.fleet && m.name.rfind("fleet.", 0) == 0) continue;
    MetricFamily f = metric_family(m.name, m.unit);
    families[f.name].push_back(&m);
    meta.emplace(f.name, f);
  }
  for (const auto& [name, members] : families) {
    const MetricFamily& f = meta.at(name);
    out +=
        fmt::format("# HELP {} {} (report metric {}, unit {}).\n# TYPE {} gauge\n", name,
                    "Measured in the last run's window", members.front()->name, members.front()->unit, name);
    std::set<std::string> written;
    for (const Metric* m : members) {
      std::string labels = label_set(m->labels);
      if (!written.insert(labels).second) continue;
      out += fmt::format("{}{} {:.12g}\n", name, labels, m->value * f.scale);
    }
  }
}

// One series per piece of advice: its confidence, and the expected gain when it was measured.
void render_advice_metrics(std::string& out, const Report& r) {
  family(out, "chokepoint_advice_confidence", "gauge",
         "Advice of the last run (the scaling lever the measurements call for) by id and component.");
  for (const auto& a : r.advice)
    out += fmt::format("chokepoint_advice_confidence{{id=\"{}\",lever=\"{}\",component=\"{}\"}} {}\n",
                       label(a.id), label(a.lever), label(a.component), a.confidence);
  family(out, "chokepoint_advice_expected_gain_ratio", "gauge",
         "Share of the basis (db_time, connections …) the advice is expected to save.");
  for (const auto& a : r.advice)
    if (a.expected_gain.share)
      out +=
          fmt::format("chokepoint_advice_expected_gain_ratio{{id=\"{}\",component=\"{}\",basis=\"{}\"}} {}\n",
                      label(a.id), label(a.component), label(a.expected_gain.basis), *a.expected_gain.share);
}

// The fleet section (--prometheus): the instances per worst category ("none": no finding; they add
// up to the instances examined), the queries sent, and one series per instance whose value is its
// worst finding's severity (0 none, 1 info … 5 critical). The instance label is the instance's name
// as the fleet source reports it: pods come and go, so it is the one label that may change between
// runs (a dashboard aggregates it away or keeps the worst).
void render_fleet_metrics(std::string& out, const Fleet& fl) {
  family(out, "chokepoint_fleet_instances_examined", "gauge",
         "Instances the fleet source (--prometheus) reported and the last run judged.");
  out += fmt::format("chokepoint_fleet_instances_examined {}\n", fl.instances.size());
  family(out, "chokepoint_fleet_instances", "gauge",
         "Fleet instances by the category of their worst finding (none: no finding).");
  for (Category c : kCategories)
    out += fmt::format("chokepoint_fleet_instances{{category=\"{}\"}} {}\n", to_string(c), fl.instances_of(c));
  out += fmt::format("chokepoint_fleet_instances{{category=\"none\"}} {}\n", fleet_clean(fl));
  family(out, "chokepoint_fleet_queries", "gauge", "Queries the last run sent to the fleet source.");
  out += fmt::format("chokepoint_fleet_queries {}\n", fl.queries);
  family(out, "chokepoint_fleet_instance_severity", "gauge",
         "Each fleet instance's worst finding: 0 none, 1 info, 2 low, 3 medium, 4 high, 5 critical.");
  std::set<std::string> written;
  for (const auto& i : fl.instances) {
    std::string labels = fmt::format("{{instance=\"{}\",kind=\"{}\",category=\"{}\"}}", label(i.name),
                                     label(i.kind), i.category ? to_string(*i.category) : "none");
    if (!written.insert(label(i.name)).second) continue;
    out += fmt::format("chokepoint_fleet_instance_severity{} {}\n", labels,
                       i.severity ? static_cast<int>(*i.severity) + 1 : 0);
  }
}

}  // namespace

MetricFamily metric_family(const std::string& name, const std::string& unit) {
  std::vector<std::string> tokens;
  std::string token;
  std::istringstream parts(name);
  while (std::getline(parts, token, '.'))
    for (std::istringstream words(token); std::getline(words, token, '_');)
      if (!token.empty()) tokens.push_back(token);
  bool milliseconds = unit == "ms" || unit.rfind("ms/", 0) == 0;
  std::string out = "chokepoint";
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    if (t == "ms" && milliseconds) t = "seconds";
    if (t == "s" && i > 0 && tokens[i - 1] == "per") t = "second";
    for (auto& c : t)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    out += "_" + t;
  }
  return {out, milliseconds ? 0.001 : 1.0};
}

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
    // Every rule's own series exists in every run (0 when quiet): dashboards see no gaps.
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
                       stable_target(p.target), p.status == ProbeStatus::ok ? 1 : 0);
  family(out, "chokepoint_probe_duration_seconds", "gauge", "How long the probe took.");
  for (const auto& p : r.probes)
    out += fmt::format("chokepoint_probe_duration_seconds{{probe=\"{}\",target=\"{}\"}} {:.3f}\n",
                       label(p.name), stable_target(p.target), p.duration_ms / 1000);
  family(out, "chokepoint_verdict", "gauge",
         "1 for the category the last run named as the bottleneck (none: no bottleneck).");
  std::string verdict = r.verdict.category ? std::string(to_string(*r.verdict.category)) : "none";
  for (const char* c : {"database", "network", "code", "infrastructure", "none"})
    out += fmt::format("chokepoint_verdict{{category=\"{}\"}} {}\n", c, verdict == c ? 1 : 0);
  family(out, "chokepoint_category_probability", "gauge",
         "The ranker's probability that the category holds the bottleneck.");
  for (const auto& e : r.ranking)
    out += fmt::format("chokepoint_category_probability{{category=\"{}\"}} {}\n", to_string(e.category),
                       e.probability);
  family(out, "chokepoint_category_examined", "gauge",
         "1 when a probe examined the category in the last run, 0 when nothing did.");
  for (const auto& e : r.ranking)
    out += fmt::format("chokepoint_category_examined{{category=\"{}\"}} {}\n", to_string(e.category),
                       e.examined ? 1 : 0);
  family(out, "chokepoint_verdict_confidence", "gauge", "The verdict's confidence, 0..1.");
  out += fmt::format("chokepoint_verdict_confidence {}\n", r.verdict.confidence);
  render_advice_metrics(out, r);
  if (r.fleet) render_fleet_metrics(out, *r.fleet);
  family(out, "chokepoint_gate_passed", "gauge", "1 when the CI gate passed, 0 when it failed.");
  out += fmt::format("chokepoint_gate_passed {}\n", r.gate.status == "pass" ? 1 : 0);
  family(out, "chokepoint_last_run_timestamp_seconds", "gauge", "When the last run started (Unix time).");
  out += fmt::format("chokepoint_last_run_timestamp_seconds {:.0f}\n", epoch_of(r.run.started_at));
  family(out, "chokepoint_run_duration_seconds", "gauge", "How long the last run took.");
  out += fmt::format("chokepoint_run_duration_seconds {:.3f}\n", r.run.duration_ms / 1000);
  render_report_metrics(out, r);
  return out;
}

}  // namespace cp
