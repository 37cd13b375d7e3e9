#include "core/gate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "probes/probe.hpp"
#include "util/format.hpp"

namespace cp {

namespace {

// A metric's identity across runs: its name and labels without the target (whose port may change).
std::string metric_key(const Metric& m) {
  std::string key = m.name;
  for (const auto& [k, v] : m.labels)
    if (k != "target") key += "|" + k + "=" + v;
  return key;
}

// Keys that name one metric only (two targets of a kind would share them: not comparable).
std::map<std::string, const Metric*> unique_by_key(const std::vector<Metric>& metrics) {
  std::map<std::string, const Metric*> out;
  std::set<std::string> ambiguous;
  for (const auto& m : metrics) {
    auto key = metric_key(m);
    if (!out.emplace(key, &m).second) ambiguous.insert(key);
  }
  for (const auto& k : ambiguous) out.erase(k);
  return out;
}

// "scheme://user@host:port/path?…" -> "host/path": what a server target is, however it was reached.
std::string locator_identity(std::string_view name) {
  auto scheme = name.find("://");
  if (scheme == std::string_view::npos) return std::string(name);
  size_t start = scheme + 3;
  size_t end = std::min(name.find_first_of("/?#", start), name.size());
  std::string_view authority = name.substr(start, end - start);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket) &&
      authority.find_first_not_of("0123456789", colon + 1) == std::string_view::npos)
    authority = authority.substr(0, colon);
  size_t path_end = std::min(name.find_first_of("?#", end), name.size());
  return std::string(authority) + std::string(name.substr(end, path_end - end));
}

// The services a trace input showed (route metrics and findings carry them).
std::set<std::string> trace_services(const Report& r, const std::string& target) {
  std::set<std::string> out;
  for (const auto& m : r.metrics) {
    auto t = m.labels.find("target");
    auto svc = m.labels.find("service");
    if (m.name.rfind("traces.", 0) == 0 && t != m.labels.end() && t->second == target &&
        svc != m.labels.end())
      out.insert(svc->second);
  }
  for (const auto& f : r.findings)
    if (f.probe == "traces" && f.target == target && f.evidence.is_object() &&
        f.evidence.contains("service") && f.evidence["service"].is_string())
      out.insert(f.evidence["service"].get<std::string>());
  return out;
}

// Whether this run's probes examined the target a baseline finding came from.
bool examined_again(const Report& now, const Report& baseline, const Finding& f) {
  if (f.probe.empty())  // a 1.0 report without sources: only a run where everything ran can tell
    return std::none_of(now.probes.begin(), now.probes.end(),
                        [](const ProbeResult& p) { return p.status != ProbeStatus::ok; });
  auto of_kind = [&](const Report& r) {
    return std::count_if(r.probes.begin(), r.probes.end(),
                         [&](const ProbeResult& p) { return p.name == f.probe; });
  };
  bool one_each = of_kind(now) == 1 && of_kind(baseline) == 1;  // trace files are named per build
  for (const auto& p : now.probes)
    if (p.name == f.probe && p.status == ProbeStatus::ok &&
        (one_each || locator_identity(p.target) == locator_identity(f.target)))
      return true;
  return false;
}

std::string list_of(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? std::string("nothing") : out;
}

// Rules set to level = "error" that no probe judged in this run: the gate cannot pass them blind.
void note_rules_not_run(Report& report, const GateOptions& options) {
  for (const auto& rule : options.error_rules) {
    std::vector<std::string> judges;
    bool judged = false;
    for (const auto& kind : probe_kinds()) {
      if (!kind.rules.judges(rule)) continue;
      judges.emplace_back(kind.name);
      for (const auto& p : report.probes)
        judged = judged || (p.name == kind.name && p.status == ProbeStatus::ok);
    }
    if (judged) continue;
    std::string note = fmt::format("rule {} is set to level \"error\" but was not judged: {}", rule,
                                   judges.empty() ? std::string("no probe judges it yet")
                                                  : "no " + fmt::format("{}", fmt::join(judges, " or ")) +
                                                        " target was examined in this run");
    report.gate.notes.push_back(note);
    if (options.rules_not_run == RuleLevel::error) report.gate.reasons.push_back(note);
  }
}

void compare_metrics(Report& report, const GateOptions& options) {
  auto base = unique_by_key(options.baseline->metrics);
  for (const auto& [key, m] : unique_by_key(report.metrics)) {
    const GatedMetric* g = find_gated_metric(m->name);
    auto b = base.find(key);
    if (!g || b == base.end()) continue;
    double before = b->second->value, after = m->value;
    double worse_by = (after - before) * g->worse;
    double allowed = std::max(options.metric_tolerance * std::fabs(before), g->floor);
    bool regressed = worse_by > allowed;
    bool improved = -worse_by > allowed;
    if (!regressed && !improved) continue;
    json labels = json::object();
    for (const auto& [k, v] : m->labels) labels[k] = v;
    report.gate.baseline.metric_changes.push_back(
        {{"name", m->name},
         {"labels", labels},
         {"baseline", before},
         {"current", after},
         {"change_ratio",
          before != 0 ? json(round_to((after - before) / std::fabs(before), 4)) : json(nullptr)},
         {"regressed", regressed}});
    if (regressed && options.metric_regressions == RuleLevel::error)
      report.gate.reasons.push_back(fmt::format("metric {} regressed: {} -> {} {}", m->name,
                                                round_to(before, 3), round_to(after, 3), m->unit));
  }
}

// `pattern` with `*` matching any run of characters (the only wildcard), against all of `text`.
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool value_matches(const json& value, const std::string& pattern) {
  if (value.is_string()) return glob_match(pattern, value.get<std::string>());
  if (value.is_array())
    return std::any_of(value.begin(), value.end(), [&](const json& v) { return value_matches(v, pattern); });
  if (value.is_number()) {  // 5000 matches 5000.0: numbers compare as numbers
    char* end = nullptr;
    double wanted = std::strtod(pattern.c_str(), &end);
    if (!pattern.empty() && end == pattern.c_str() + pattern.size()) return value.get<double>() == wanted;
  }
  if (value.is_number() || value.is_boolean()) return glob_match(pattern, value.dump());
  return false;
}

AcknowledgementUse use_of(const AcknowledgeSetting& a, const std::string& today) {
  AcknowledgementUse u;
  u.id = a.id;
  u.rule = a.rule;
  u.match = a.match;
  u.reason = a.reason;
  u.until = a.until;
  u.expired = a.until && !today.empty() && today > *a.until;  // ISO dates compare as text
  return u;
}

// Marks acknowledged findings (the first matching acknowledgement wins) and records what each matched.
void apply_acknowledgements(Report& report, const GateOptions& options) {
  auto& uses = report.gate.acknowledgements;
  for (const auto& a : options.acknowledgements) uses.push_back(use_of(a, options.today));
  for (auto& f : report.findings) {
    f.acknowledgement.reset();
    for (size_t i = 0; i < options.acknowledgements.size(); ++i) {
      if (!acknowledges(options.acknowledgements[i], f)) continue;
      uses[i].findings.push_back(f.id);
      f.acknowledgement = FindingAcknowledgement{uses[i].reason, uses[i].until, uses[i].expired};
      break;
    }
  }
}

BaselineSummary summarize(const Report& baseline) {
  BaselineSummary s;
  s.started_at = baseline.run.started_at;
  s.verdict = baseline.verdict;
  for (const auto& e : baseline.ranking) s.ranking.push_back({e.category, e.probability, e.examined, {}, {}});
  for (const auto& f : baseline.findings) {
    Finding brief;
    brief.id = f.id;
    brief.rule = f.rule;
    brief.severity = f.severity;
    brief.component = f.component;
    brief.title = f.title;
    s.findings.push_back(std::move(brief));
  }
  return s;
}

// A finding's own id and those of the other probes' views merged into it (reconcile.cpp): a fact
// one run saw with one probe and the next with two is the same finding.
std::vector<std::string> ids_of(const Finding& f) {
  std::vector<std::string> out{f.id};
  for (const auto& s : f.seen_by)
    if (s.id != f.id) out.push_back(s.id);
  return out;
}

// Marks each finding new / unchanged / regressed against the baseline and whether it fails the gate.
void judge_findings(Report& report, const GateOptions& options) {
  Gate& g = report.gate;
  std::map<std::string, const Finding*> before;
  if (options.baseline)
    for (const auto& f : options.baseline->findings)
      for (const auto& id : ids_of(f)) before.emplace(id, &f);
  for (auto& f : report.findings) {
    if (options.baseline) {
      auto it = before.end();
      for (const auto& id : ids_of(f))
        if (it == before.end()) it = before.find(id);
      f.baseline = it == before.end() ? "new" : f.severity > it->second->severity ? "regressed" : "unchanged";
      (f.baseline == "new"         ? g.baseline.new_ids
       : f.baseline == "regressed" ? g.baseline.regressed_ids
                                   : g.baseline.unchanged_ids)
          .push_back(f.id);
    }
    // With a baseline only what is new or got worse can fail the gate.
    bool eligible = !options.baseline || f.baseline != "unchanged";
    bool by_severity = f.level != "warn" && options.fail_on && f.severity >= *options.fail_on;
    // An acknowledged finding does not count until its acknowledgement expires.
    bool accepted = f.acknowledgement && !f.acknowledgement->expired;
    f.fails_gate = eligible && !accepted && (f.level == "error" || by_severity);
    if (f.fails_gate)
      g.reasons.push_back(fmt::format(
          "{}{}{} {} on {}: {}",
          f.acknowledgement
              ? fmt::format("acknowledgement expired on {}: ", f.acknowledgement->until.value_or("?"))
              : "",
          f.baseline.empty() ? "" : f.baseline + " ", f.rule, to_string(f.severity), f.component, f.title));
  }
}

// Baseline findings absent now: resolved only when the probe that found them looked again and did
// not see them, else unverified.
void resolve_baseline_findings(Report& report, const GateOptions& options) {
  Gate& g = report.gate;
  std::set<std::string> now;
  for (const auto& f : report.findings)
    for (const auto& id : ids_of(f)) now.insert(id);
  for (const auto& f : options.baseline->findings) {
    auto ids = ids_of(f);
    if (std::any_of(ids.begin(), ids.end(), [&](const std::string& id) { return now.count(id) > 0; })) continue;
    if (!examined_again(report, *options.baseline, f)) {
      g.baseline.unverified_ids.push_back(f.id);
      continue;
    }
    g.baseline.resolved_ids.push_back(f.id);
    g.baseline.resolved_findings.push_back({{"id", f.id},
                                            {"rule", f.rule},
                                            {"severity", to_string(f.severity)},
                                            {"component", f.component},
                                            {"title", f.title}});
  }
}

// Notes for an interrupted window and for probes that could not examine their target; whether the
// run is incomplete because of them.
bool note_what_was_not_examined(Report& report) {
  Gate& g = report.gate;
  bool incomplete = report.run.interrupted;
  if (report.run.interrupted)
    g.notes.push_back(
        fmt::format("the run was interrupted after {:.1f} s of its {:.0f} s window: the report "
                    "covers what was measured until then",
                    report.run.duration_ms / 1000, report.run.window_s));
  for (const auto& p : report.probes)
    if (p.status == ProbeStatus::error) {
      incomplete = true;
      g.notes.push_back(fmt::format("{} {} could not be examined: {}", p.name, p.target, p.message));
    }
  return incomplete;
}

// Whether a probe of this run that judges a rule the severity threshold gates examined its target.
// Names the probes that did not (or whose every rule is set below the gate) in `not_examined`.
bool fail_on_reachable(const Report& report, const GateOptions& options,
                       std::vector<std::string>& not_examined) {
  for (const auto& p : report.probes) {
    const ProbeKind* kind = find_probe_kind(p.name);
    if (!kind) continue;
    bool gates = std::any_of(kind->rules.judged.begin(), kind->rules.judged.end(), [&](std::string_view id) {
      return !options.rules_below_gate.count(std::string(id));
    });
    if (p.status == ProbeStatus::ok && gates) return true;
    not_examined.push_back(
        p.status != ProbeStatus::ok
            ? fmt::format("{} {}", p.name, p.target)
            : fmt::format("{} {} (every rule it judges is set to level \"warn\" or \"off\")", p.name,
                          p.target));
  }
  return false;
}

// A severity threshold (--fail-on, [gate] fail_on) that no judged rule could reach cannot fail the
// run: it must not pass silently. A note naming what was not examined; a reason with
// rules_not_run = "error", like an unjudged level = "error" rule.
void note_fail_on_not_examined(Report& report, const GateOptions& options) {
  if (!options.fail_on) return;
  std::vector<std::string> not_examined;
  if (fail_on_reachable(report, options, not_examined)) return;
  std::string note = fmt::format(
      "{} {} could not fail this run: no rule it gates was judged; not examined: {}", options.fail_on_origin,
      to_string(*options.fail_on),
      not_examined.empty() ? std::string("any target") : fmt::format("{}", fmt::join(not_examined, "; ")));
  report.gate.notes.push_back(note);
  if (options.rules_not_run == RuleLevel::error) report.gate.reasons.push_back(note);
}

}  // namespace

bool acknowledges(const AcknowledgeSetting& ack, const Finding& f) {
  if (ack.id) return *ack.id == f.id;
  if (!ack.rule || *ack.rule != f.rule) return false;
  for (const auto& [key, pattern] : ack.match) {
    if (key == "component") {
      if (!glob_match(pattern, f.component)) return false;
    } else if (key == "target") {
      if (!glob_match(pattern, f.target)) return false;
    } else {
      auto it = f.evidence.find(key);
      if (it == f.evidence.end() || !value_matches(*it, pattern)) return false;
    }
  }
  return true;
}

std::optional<Severity> parse_fail_on(const std::string& s) {
  if (s == "never") return std::nullopt;
  auto sev = severity_from_string(s);
  if (!sev || *sev == Severity::info)
    throw UsageError("--fail-on: expected critical, high, medium, low or never, not \"" + s + "\"");
  return sev;
}

std::string target_without_port(const std::string& target) {
  // Drop a port so random CI ports compare equal: "host:1234/" -> "host/".
  std::string name = target;
  auto scheme = name.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  auto end = name.find('/', start);
  std::string authority = name.substr(start, end == std::string::npos ? std::string::npos : end - start);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos &&
      authority.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    name.erase(start + colon, authority.size() - colon);
  return name;
}

std::set<std::string> target_identities(const Report& report) {
  std::set<std::string> out;
  for (const auto& t : report.targets) {
    if (t.kind == "traces") {
      auto services = trace_services(report, t.name);
      if (services.empty()) out.insert("traces");
      for (const auto& svc : services) out.insert("traces service " + svc);
      continue;
    }
    out.insert(t.kind + " " + locator_identity(t.name));
  }
  return out;
}

std::string check_same_targets(const Report& current, const Report& baseline, const std::string& file) {
  std::set<std::string> now = target_identities(current), then = target_identities(baseline);
  if (now == then) return "";
  std::set<std::string> common;
  std::set_intersection(now.begin(), now.end(), then.begin(), then.end(),
                        std::inserter(common, common.end()));
  if (common.empty())
    throw UsageError(
        fmt::format("baseline {} examined {}, but this run examined {}: nothing in common, compare runs of "
                    "the same targets",
                    file, list_of(then), list_of(now)));
  return fmt::format("baseline {} examined {}; this run examined {}: compared on what both examined ({})",
                     file, list_of(then), list_of(now), list_of(common));
}

void apply_gate(Report& report, const GateOptions& options) {
  Gate& g = report.gate;
  g = Gate{};
  g.fail_on = options.fail_on ? std::string(to_string(*options.fail_on)) : "never";
  g.baseline.file = options.baseline_file;

  apply_acknowledgements(report, options);
  judge_findings(report, options);
  if (options.baseline) {
    g.baseline.summary = summarize(*options.baseline);
    resolve_baseline_findings(report, options);
    if (options.metric_regressions != RuleLevel::off) compare_metrics(report, options);
  }
  note_rules_not_run(report, options);
  bool incomplete = note_what_was_not_examined(report);
  note_fail_on_not_examined(report, options);
  if (!g.baseline.unverified_ids.empty())
    g.notes.push_back(
        fmt::format("{} baseline finding(s) not checked again (their probe did not examine its "
                    "target): neither resolved nor present",
                    g.baseline.unverified_ids.size()));
  g.status = !g.reasons.empty() ? "fail" : incomplete ? "incomplete" : "pass";
}

int exit_code_of(const Report& report) {
  for (const auto& p : report.probes)
    if (p.status == ProbeStatus::error) return kExitTargetError;
  return report.gate.status == "fail" ? kExitGateFailed : kExitOk;
}

}  // namespace cp
