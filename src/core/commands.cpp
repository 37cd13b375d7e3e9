#include "core/commands.hpp"

#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "core/diagnose.hpp"
#include "core/error.hpp"
#include "core/gate.hpp"
#include "core/report_json.hpp"
#include "core/usage.hpp"
#include "probes/probe.hpp"
#include "render/render.hpp"
#include "util/files.hpp"
#include "util/format.hpp"
#include "util/term.hpp"
#include "util/time.hpp"

namespace cp {

namespace {

constexpr double kMaxWindowS = 3600;

std::vector<Target> resolve_targets(const std::vector<TargetArg>& given) {
  // All --traces files are one input: a trace's spans may be spread over several files.
  std::vector<TargetArg> args;
  std::string trace_files;
  for (const auto& a : given) {
    if (a.flag != "--traces") {
      args.push_back(a);
      continue;
    }
    if (a.value.find('\n') != std::string::npos) throw UsageError("--traces: a file name with a newline");
    if (a.value == "-" && (trace_files == "-" || trace_files.find("\n-\n") != std::string::npos))
      throw UsageError("--traces: stdin (-) can be read only once");
    trace_files += (trace_files.empty() ? "" : "\n") + a.value;
  }
  if (!trace_files.empty()) args.push_back({"--traces", trace_files});
  std::vector<Target> out;
  for (const auto& a : args) {
    const ProbeKind* kind = nullptr;
    for (const auto& k : probe_kinds())
      for (const auto& f : k.flags)
        if (f.flag == a.flag) kind = &k;
    if (!kind) throw UsageError("unknown target flag " + a.flag);
    Target t;
    t.kind = std::string(kind->name);
    t.flag = a.flag;
    t.spec = a.value;
    t.name = kind->describe(a.flag, a.value, t.secrets);
    out.push_back(std::move(t));
  }
  return out;
}

// One line on stderr: redrawn in place on a terminal, start and end lines otherwise.
ProgressFn stderr_progress(const std::vector<Target>& targets, double window_s) {
  bool tty = is_tty(stderr);
  bool any_live = false;
  for (const auto& t : targets)
    if (const ProbeKind* k = find_probe_kind(t.kind); k && k->live) any_live = true;
  if (!any_live) window_s = 0;
  if (!tty)
    std::fprintf(stderr, "chokepoint: examining %zu target%s over %s\n", targets.size(),
                 targets.size() == 1 ? "" : "s",
                 window_s > 0 ? fmt::format("a {} s window", window_s).c_str()
                 : any_live   ? "cumulative counters"
                              : "offline input");
  return [tty](double elapsed, double window, size_t running, size_t total) {
    if (tty) {
      std::string line = running ? fmt::format("chokepoint: {:.0f}/{:.0f} s · {} of {} probes running",
                                               elapsed, window, running, total)
                                 : "";
      std::fprintf(stderr, "\r\x1b[K%s", line.c_str());
    } else if (!running) {
      std::fprintf(stderr, "chokepoint: collected in %.1f s\n", elapsed);
    }
    std::fflush(stderr);
  };
}

Evidence load_evidence(const std::string& path) {
  auto r = read_file(path);
  if (!r.content) throw UsageError("--replay: " + r.error);
  auto doc = nlohmann::json::parse(*r.content, nullptr, false);
  if (doc.is_discarded()) throw UsageError("--replay: " + path + " is not valid JSON");
  return evidence_from_json(doc);
}

// Writes to --output (atomically) or stdout; returns false with a message on stderr if it could not.
bool emit(const std::string& content, const std::optional<std::string>& path) {
  if (!path || *path == "-") {
    std::fwrite(content.data(), 1, content.size(), stdout);
    std::fflush(stdout);
    return !std::ferror(stdout);
  }
  if (auto err = write_file_atomic(*path, content)) {
    std::fprintf(stderr, "chokepoint: %s\n", err->c_str());
    return false;
  }
  return true;
}

Report load_report(const std::string& path, const char* what) {
  auto r = read_file(path);
  if (!r.content) throw UsageError(std::string(what) + ": " + r.error);
  auto doc = json::parse(*r.content, nullptr, false);
  if (doc.is_discarded()) throw UsageError(std::string(what) + ": " + path + " is not valid JSON");
  try {
    return report_from_json(doc);
  } catch (const UsageError& e) {
    throw UsageError(std::string(what) + ": " + path + ": " + e.what());
  }
}

GateOptions gate_options(const Settings& settings, const std::optional<std::string>& fail_on) {
  GateOptions gate;
  gate.fail_on = parse_fail_on(fail_on.value_or(settings.gate.fail_on.value_or("never")));
  gate.metric_tolerance = settings.gate.metric_tolerance;
  gate.metric_regressions = settings.gate.metric_regressions;
  gate.acknowledgements = settings.acknowledgements;
  gate.today = rfc3339_utc(std::chrono::system_clock::now()).substr(0, 10);
  return gate;
}

// An acknowledgement that matches nothing may hide a typo; one that expired counts again.
void warn_about_acknowledgements(const Report& report) {
  for (const auto& a : report.gate.acknowledgements) {
    std::string subject = a.id ? "id " + *a.id : "rule " + a.rule.value_or("?");
    if (a.findings.empty())
      std::fprintf(stderr, "chokepoint: [[acknowledge]] %s matches no finding of this run\n",
                   subject.c_str());
    else if (a.expired)
      std::fprintf(stderr, "chokepoint: [[acknowledge]] %s expired on %s: its findings count again\n",
                   subject.c_str(), a.until->c_str());
  }
}

// Colour and width of the terminal when the text report goes to one.
RenderOptions render_options(Format format, const std::optional<std::string>& output) {
  RenderOptions o;
  bool to_stdout = !output || *output == "-";
  o.color = format == Format::text && to_stdout && use_color(stdout);
  o.width = to_stdout ? text_width(stdout) : kDefaultTextWidth;
  return o;
}

// After --output, nothing else says what was concluded: one line on stderr.
void announce(const Report& report, const std::optional<std::string>& output) {
  if (!output || *output == "-") return;
  std::fprintf(stderr, "%s\n", outcome_line(report, *output).c_str());
}

void validate(const DiagnoseArgs& a) {
  if (a.targets.empty() && !a.replay)
    throw UsageError("diagnose needs at least one target (--postgres, …) or --replay FILE");
  if (!a.targets.empty() && a.replay)
    throw UsageError("--replay judges saved evidence: give no targets with it");
  if (!(a.window_s >= 0) || a.window_s > kMaxWindowS)
    throw UsageError(fmt::format("--window: expected seconds between 0 and {}", kMaxWindowS));
}

}  // namespace

int run_diagnose(const DiagnoseArgs& args) {
  validate(args);
  auto format = format_from_string(args.format);
  if (!format) throw UsageError("--format: expected text, json, markdown, junit, prometheus, sarif or html");
  Settings settings = args.config ? load_config(*args.config) : Settings{};
  GateOptions gate = gate_options(settings, args.fail_on);
  std::optional<Report> baseline;
  if (args.baseline) {
    baseline = load_report(*args.baseline, "--baseline");
    gate.baseline = &*baseline;
    gate.baseline_file = *args.baseline;
  }
  std::vector<Target> targets = resolve_targets(args.targets);

  Evidence ev = args.replay ? load_evidence(*args.replay)
                            : collect_evidence(targets, args.window_s, settings,
                                               stderr_progress(targets, args.window_s));
  bool output_ok = true;
  if (args.save_evidence) {
    if (auto err = write_file_atomic(*args.save_evidence, evidence_to_json(ev).dump() + "\n")) {
      std::fprintf(stderr, "chokepoint: --save-evidence: %s\n", err->c_str());
      output_ok = false;
    }
  }

  Report report = judge_evidence(ev, settings);
  if (baseline) check_same_targets(report, *baseline, *args.baseline);
  apply_gate(report, gate);
  warn_about_acknowledgements(report);
  output_ok = emit(render(report, *format, render_options(*format, args.output)), args.output) && output_ok;
  if (output_ok) announce(report, args.output);

  for (const auto& p : report.probes)
    if (p.status == ProbeStatus::error)
      std::fprintf(stderr, "chokepoint: %s: %s\n", p.name.c_str(), p.message.c_str());
  if (!output_ok) return kExitUsage;
  for (const auto& p : report.probes)
    if (p.status == ProbeStatus::error) return kExitTargetError;
  return report.gate.status == "fail" ? kExitGateFailed : kExitOk;
}

int run_compare(const CompareArgs& args) {
  auto format = format_from_string(args.format);
  if (!format) throw UsageError("--format: expected text, json, markdown, junit, prometheus, sarif or html");
  Settings settings = args.config ? load_config(*args.config) : Settings{};
  Report baseline = load_report(args.baseline, "baseline");
  Report current = load_report(args.current, "current report");
  check_same_targets(current, baseline, args.baseline);
  // Levels and severities from the config apply to the saved findings as they would to a run.
  std::erase_if(current.findings, [&](const Finding& f) { return !settings.enabled(f.rule); });
  for (auto& f : current.findings) {
    if (auto sev = settings.severity_override(f.rule)) f.severity = *sev;
    RuleLevel level = settings.level(f.rule);
    f.level = level == RuleLevel::warn ? "warn" : level == RuleLevel::error ? "error" : "";
  }
  GateOptions gate = gate_options(settings, args.fail_on);
  gate.baseline = &baseline;
  gate.baseline_file = args.baseline;
  apply_gate(current, gate);
  warn_about_acknowledgements(current);
  if (!emit(render(current, *format, render_options(*format, args.output)), args.output)) return kExitUsage;
  announce(current, args.output);
  return current.gate.status == "fail" ? kExitGateFailed : kExitOk;
}

namespace {

std::string judged_by(std::string_view rule) {
  std::string out;
  for (const auto& k : probe_kinds())
    for (auto id : k.rules)
      if (id == rule) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out.empty() ? "no probe yet" : out;
}

json rule_to_json(const RuleSpec& r) {
  json th = json::array();
  for (const auto& t : r.thresholds)
    th.push_back({{"name", t.name},
                  {"default", t.value},
                  {"unit", t.unit},
                  {"meaning", t.meaning},
                  {"source", t.source}});
  return {
      {"id", r.id},       {"category", to_string(r.category)}, {"fires_when", r.fires_when},  {"fix", r.fix},
      {"thresholds", th}, {"evidence_keys", r.evidence_keys},  {"judged_by", judged_by(r.id)}};
}

// Wrapped to `width` columns (the terminal's, 100 when not a terminal).
std::string rule_text(const RuleSpec& r, size_t width) {
  std::string out = fmt::format(
      "{}  ({})\n\nFires when\n{}\nThresholds (override in chokepoint.toml under "
      "[rules.\"{}\"])\n",
      r.id, to_string(r.category), word_wrap(std::string(r.fires_when), 2, width), r.id);
  for (const auto& t : r.thresholds) {
    out += fmt::format("  {} = {} {}\n", t.name, t.value, t.unit);
    out +=
        word_wrap(std::string(t.meaning), 4, width) + word_wrap("source: " + std::string(t.source), 4, width);
  }
  out += "\nEvidence keys\n" + word_wrap(fmt::format("{}", fmt::join(r.evidence_keys, ", ")), 2, width);
  out += "\nFix\n" + word_wrap(std::string(r.fix), 2, width);
  out += "\nJudged by\n" + word_wrap(judged_by(r.id), 2, width);
  return out;
}

// One rule per entry: id and category, then what fires it, wrapped under them.
std::string rule_list_text(size_t width) {
  std::string out;
  for (const auto& r : rule_catalog()) {
    out += fmt::format("{:<28} {}\n", r.id, to_string(r.category));
    out += word_wrap(std::string(r.fires_when), 4, width);
  }
  out += "\n" +
         word_wrap("`chokepoint rules RULE` shows a rule's thresholds, their sources and the fix.", 0, width);
  return out;
}

}  // namespace

int run_rules(const std::optional<std::string>& rule, const std::string& format) {
  if (format != "text" && format != "json") throw UsageError("rules --format: expected text or json");
  if (rule) {
    const RuleSpec* spec = find_rule(*rule);
    if (!spec) {
      std::vector<std::string> ids;
      for (const auto& r : rule_catalog()) ids.emplace_back(r.id);
      auto near = closest_match(*rule, ids);
      throw UsageError("unknown rule \"" + *rule + "\"" + (near ? "; did you mean " + *near + "?" : "") +
                       " (`chokepoint rules` lists them)");
    }
    std::string out =
        format == "json" ? rule_to_json(*spec).dump(2) + "\n" : rule_text(*spec, text_width(stdout));
    std::fwrite(out.data(), 1, out.size(), stdout);
    return kExitOk;
  }
  std::string out;
  if (format == "json") {
    json all = json::array();
    for (const auto& r : rule_catalog()) all.push_back(rule_to_json(r));
    out = all.dump(2) + "\n";
  } else {
    out = rule_list_text(text_width(stdout));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int run_guarded(const std::function<int()>& command) {
  try {
    return command();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "chokepoint: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chokepoint: internal error: %s (a bug: please report it)\n", e.what());
    return kExitInternal;
  } catch (...) {
    std::fprintf(stderr, "chokepoint: internal error (a bug: please report it)\n");
    return kExitInternal;
  }
}

}  // namespace cp
