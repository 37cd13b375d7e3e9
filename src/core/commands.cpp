#include "core/commands.hpp"

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "core/advice.hpp"
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
#include "util/json_input.hpp"
#include "util/term.hpp"
#include "util/time.hpp"

namespace cp {

namespace {

constexpr double kMaxWindowS = 3600;

// SIGINT / SIGTERM during the window: it ends there, the report of what was measured is written
// (marked interrupted), then the process ends by that signal. A second signal ends it at once.
std::atomic<bool> g_interrupted{false};
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_interrupt(int sig) {
  g_signal = sig;
  g_interrupted.store(true);
}

class InterruptibleWindow {
 public:
  InterruptibleWindow() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;  // the second one is not caught
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_int_);
    sigaction(SIGTERM, &sa, &previous_term_);
  }
  ~InterruptibleWindow() {
    if (!g_signal) {
      sigaction(SIGINT, &previous_int_, nullptr);
      sigaction(SIGTERM, &previous_term_, nullptr);
    }
  }
  InterruptibleWindow(const InterruptibleWindow&) = delete;
  InterruptibleWindow& operator=(const InterruptibleWindow&) = delete;

 private:
  struct sigaction previous_int_ {
  }, previous_term_{};
};

// After the report is out: end the way the signal would have ended the process.
void end_by_signal_if_interrupted() {
  if (!g_signal) return;
  int sig = g_signal;
  std::fprintf(stderr, "chokepoint: interrupted (%s): the report covers what was measured until then\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  std::fflush(stderr);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

const TargetFlag* find_target_flag(std::string_view flag, const ProbeKind*& kind) {
  for (const auto& k : probe_kinds())
    for (const auto& f : k.flags)
      if (f.flag == flag) {
        kind = &k;
        return &f;
      }
  throw UsageError("unknown target flag " + std::string(flag));
}

// One target per flag given, but one for all uses of a gathering flag (after the others); each
// probe validates its own inputs.
// A modifier's value as a secret: what follows the first ':' ("Authorization: Bearer x" -> "Bearer x").
std::string modifier_secret(const std::string& value) {
  size_t colon = value.find(':');
  if (colon == std::string::npos) return value;
  size_t start = value.find_first_not_of(" \t", colon + 1);
  return start == std::string::npos ? "" : value.substr(start);
}

// Gives every target of a modifier's kind the modifier's value; a modifier without such a target
// is a usage error.
void apply_modifiers(std::vector<Target>& targets, const std::vector<TargetArg>& modifiers) {
  for (const auto& m : modifiers) {
    const ProbeKind* kind = nullptr;
    const TargetFlag* flag = find_target_flag(m.flag, kind);
    if (flag->check) flag->check(m.value);
    bool applied = false;
    for (auto& t : targets) {
      if (t.kind != kind->name) continue;
      t.options.emplace_back(m.flag, m.value);
      if (flag->secret_value) {
        std::string secret = modifier_secret(m.value);
        if (!secret.empty()) t.secrets.push_back(std::move(secret));
      }
      applied = true;
    }
    if (!applied)
      throw UsageError(fmt::format("{} applies to {} targets: give {} too", m.flag, kind->name,
                                   kind->flags.front().flag));
  }
}

std::vector<Target> resolve_targets(const std::vector<TargetArg>& given) {
  std::vector<Target> single, gathered;
  std::vector<TargetArg> modifiers;
  for (const auto& a : given) {
    const ProbeKind* kind = nullptr;
    const TargetFlag* flag = find_target_flag(a.flag, kind);
    if (flag->modifies) {
      modifiers.push_back(a);
      continue;
    }
    auto same_flag = [&](const Target& t) { return t.flag == a.flag; };
    auto it = std::find_if(gathered.begin(), gathered.end(), same_flag);
    if (flag->gathers && it != gathered.end()) {
      it->specs.push_back(a.value);
      continue;
    }
    Target t;
    t.kind = std::string(kind->name);
    t.flag = a.flag;
    t.specs = {a.value};
    (flag->gathers ? gathered : single).push_back(std::move(t));
  }
  for (auto& t : gathered) single.push_back(std::move(t));
  apply_modifiers(single, modifiers);
  for (auto& t : single) t.name = find_probe_kind(t.kind)->describe(t.flag, t.specs, t.secrets);
  return single;
}

// One line on stderr: redrawn in place on a terminal, start and end lines otherwise.
ProgressFn stderr_progress(const std::vector<Target>& targets, double window_s) {
  bool tty = is_tty(stderr);
  window_s = effective_window(targets, window_s);
  if (!tty)
    std::fprintf(stderr, "chokepoint: examining %zu target%s over %s\n", targets.size(),
                 targets.size() == 1 ? "" : "s",
                 window_s > 0        ? fmt::format("a {} s window", window_s).c_str()
                 : any_live(targets) ? "cumulative counters"
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

// Evidence that cannot be judged is like a target that could not be examined: exit 3.
Evidence load_evidence(const std::string& path) {
  auto r = read_file(path);
  if (!r.content) throw UsageError("--replay: " + r.error);
  std::string error;
  auto doc = parse_json_input<nlohmann::json>(*r.content, error);
  if (!doc) throw InputError("--replay: " + path + " " + error);
  if (auto key = implausible_number(*doc))
    throw InputError("--replay: " + path + ": " + *key + " is not a number any measurement can have");
  try {
    return evidence_from_json(*doc);
  } catch (const UsageError& e) {
    throw InputError("--replay: " + path + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw InputError("--replay: " + path + ": not a chokepoint evidence file (" + e.what() + ")");
  }
}

// Writes to --output (atomically) or stdout; returns false with a message on stderr if it could not.
bool emit(const std::string& content, const std::optional<std::string>& path) {
  if (!path || *path == "-") {
    errno = 0;
    std::fwrite(content.data(), 1, content.size(), stdout);
    std::fflush(stdout);
    if (!std::ferror(stdout)) return true;
    std::fprintf(stderr, "chokepoint: could not write the report to stdout: %s\n",
                 errno ? std::strerror(errno) : "write error");
    return false;
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
  std::string error;
  auto doc = parse_json_input<json>(*r.content, error);
  if (!doc) throw UsageError(std::string(what) + ": " + path + " " + error);
  if (auto key = implausible_number(*doc))
    throw UsageError(std::string(what) + ": " + path + ": " + *key + " is not a number a report can hold");
  try {
    return report_from_json(*doc);
  } catch (const UsageError& e) {
    throw UsageError(std::string(what) + ": " + path + ": " + e.what());
  } catch (const json::exception& e) {
    throw UsageError(std::string(what) + ": " + path + ": not a chokepoint report (" + e.what() + ")");
  }
}

GateOptions gate_options(const Settings& settings, const std::optional<std::string>& fail_on) {
  GateOptions gate;
  gate.fail_on = parse_fail_on(fail_on.value_or(settings.gate.fail_on.value_or("never")));
  gate.fail_on_origin = fail_on ? "--fail-on" : "[gate] fail_on";
  for (const auto& kind : probe_kinds())
    for (auto id : kind.rules.judged)
      if (auto level = settings.level(id); level == RuleLevel::warn || level == RuleLevel::off)
        gate.rules_below_gate.emplace(id);
  gate.metric_tolerance = settings.gate.metric_tolerance;
  gate.metric_regressions = settings.gate.metric_regressions;
  gate.acknowledgements = settings.acknowledgements;
  gate.today = rfc3339_utc(std::chrono::system_clock::now()).substr(0, 10);
  gate.rules_not_run = settings.gate.rules_not_run;
  std::set<std::string> error_rules;
  for (const auto& [id, rule] : settings.rules)
    if (rule.level == RuleLevel::error) error_rules.insert(id);
  for (const auto& [target, rules] : settings.per_target)
    for (const auto& [id, rule] : rules)
      if (rule.level == RuleLevel::error) error_rules.insert(id);
  gate.error_rules.assign(error_rules.begin(), error_rules.end());
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

// Baseline and run share some targets only: compared on those, said on stderr and in the gate.
void warn_about_baseline(Report& report, const std::string& warning) {
  if (warning.empty()) return;
  std::fprintf(stderr, "chokepoint: warning: %s\n", warning.c_str());
  report.gate.notes.insert(report.gate.notes.begin(), warning);
}

// Where a file will be written, checked before the window rather than discovered after it.
void check_writable(const std::optional<std::string>& path, const char* option) {
  if (!path || *path == "-") return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(*path);
  if (fs::is_directory(p, ec)) throw UsageError(fmt::format("{}: {} is a directory", option, *path));
  if (fs::exists(p, ec)) {
    if (access(path->c_str(), W_OK) != 0)
      throw UsageError(fmt::format("{}: {} is not writable: {}", option, *path, std::strerror(errno)));
    return;
  }
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw UsageError(fmt::format("{}: the directory {} does not exist", option, dir.string()));
  if (access(dir.c_str(), W_OK) != 0)
    throw UsageError(fmt::format("{}: cannot write in {}: {}", option, dir.string(), std::strerror(errno)));
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  auto ca = std::filesystem::weakly_canonical(a, ec);
  auto cb = std::filesystem::weakly_canonical(b, ec);
  return a == b || (!ca.empty() && ca == cb);
}

void validate(const DiagnoseArgs& a) {
  if (a.targets.empty() && !a.replay)
    throw UsageError("diagnose needs at least one target (--postgres, …) or --replay FILE");
  if (!a.targets.empty() && a.replay)
    throw UsageError("--replay judges saved evidence: give no targets with it");
  if (!(a.window_s >= 0) || a.window_s > kMaxWindowS)
    throw UsageError(fmt::format("--window: expected seconds between 0 and {}", kMaxWindowS));
  if (a.output && a.save_evidence && *a.output != "-" && same_file(*a.output, *a.save_evidence))
    throw UsageError("--output and --save-evidence name the same file: one would overwrite the other");
  for (const auto* input : {&a.replay, &a.baseline, &a.config})
    for (const auto* out : {&a.output, &a.save_evidence})
      if (input->has_value() && out->has_value() && **out != "-" && same_file(**input, **out))
        throw UsageError("the output " + **out + " is also an input: it would be overwritten");
  check_writable(a.output, "--output");
  check_writable(a.save_evidence, "--save-evidence");
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

  Evidence ev;
  if (args.replay) {
    ev = load_evidence(*args.replay);
  } else {
    InterruptibleWindow window;
    ev = collect_evidence(targets, args.window_s, args.threads, settings, stderr_progress(targets, args.window_s),
                          &g_interrupted);
  }
  bool output_ok = true;
  if (args.save_evidence) {
    if (auto err = write_file_atomic(*args.save_evidence, evidence_to_json(ev).dump() + "\n")) {
      std::fprintf(stderr, "chokepoint: --save-evidence: %s\n", err->c_str());
      output_ok = false;
    }
  }

  Report report = judge_evidence(ev, settings);
  std::string baseline_warning = baseline ? check_same_targets(report, *baseline, *args.baseline) : "";
  apply_gate(report, gate);
  warn_about_acknowledgements(report);
  warn_about_baseline(report, baseline_warning);
  output_ok = emit(render(report, *format, render_options(*format, args.output)), args.output) && output_ok;
  if (output_ok) announce(report, args.output);

  for (const auto& p : report.probes)
    if (p.status == ProbeStatus::error)
      std::fprintf(stderr, "chokepoint: %s: %s\n", p.name.c_str(), p.message.c_str());
  end_by_signal_if_interrupted();
  if (!output_ok) return kExitUsage;
  return exit_code_of(report);
}

int run_compare(const CompareArgs& args) {
  auto format = format_from_string(args.format);
  if (!format) throw UsageError("--format: expected text, json, markdown, junit, prometheus, sarif or html");
  Settings settings = args.config ? load_config(*args.config) : Settings{};
  Report baseline = load_report(args.baseline, "baseline");
  Report current = load_report(args.current, "current report");
  std::string baseline_warning = check_same_targets(current, baseline, args.baseline);
  // Levels and severities from the config apply to the saved findings as they would to a run.
  apply_rule_settings(current.findings, settings);
  GateOptions gate = gate_options(settings, args.fail_on);
  gate.baseline = &baseline;
  gate.baseline_file = args.baseline;
  apply_gate(current, gate);
  warn_about_acknowledgements(current);
  warn_about_baseline(current, baseline_warning);
  if (!emit(render(current, *format, render_options(*format, args.output)), args.output)) return kExitUsage;
  announce(current, args.output);
  for (const auto& p : current.probes)
    if (p.status == ProbeStatus::error)
      std::fprintf(stderr, "chokepoint: the current report's %s probe did not examine %s: gate incomplete\n",
                   p.name.c_str(), p.target.c_str());
  return exit_code_of(current);
}

namespace {

std::string judged_by(std::string_view rule) {
  std::string out;
  for (const auto& k : probe_kinds())
    if (k.rules.judges(rule)) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out.empty() ? "no probe yet" : out;
}

bool is_advice(const RuleSpec& r) {
  return r.id.rfind("advice.", 0) == 0;
}

json rule_to_json(const RuleSpec& r) {
  json th = json::array();
  for (const auto& t : r.thresholds)
    th.push_back({{"name", t.name},
                  {"default", t.value},
                  {"unit", t.unit},
                  {"meaning", t.meaning},
                  {"source", t.source},
                  {"scales_with_window", scales_with_window(t)},
                  {"applies_to", to_string(t.scope)}});
  json out = {{"id", r.id},
              {"category", to_string(r.category)},
              {"fires_when", r.fires_when},
              {"fix", r.fix},
              {"thresholds", th},
              {"evidence_keys", r.evidence_keys},
              {"judged_by", is_advice(r) ? "advice" : judged_by(r.id)},
              {"kind", is_advice(r) ? "advice" : "rule"}};
  if (r.fixed_severity) out["severity"] = to_string(*r.fixed_severity);
  return out;
}

// How a threshold meets the window, beside its value in `chokepoint rules RULE`.
std::string_view window_words(const ThresholdSpec& t) {
  if (t.scope == WindowScope::cumulative) return "  [--window 0 only: cumulative statistics]";
  if (t.scope == WindowScope::window) return "  [in a window; scales with it]";
  return scales_with_window(t) ? "  [scales with the window]" : "";
}

// Wrapped to `width` columns (the terminal's, 100 when not a terminal).
std::string rule_text(const RuleSpec& r, size_t width) {
  std::string out = fmt::format(
      "{}  ({})\n\n{}\n{}\nThresholds (override in chokepoint.toml under "
      "[{}.\"{}\"])\n",
      r.id, is_advice(r) ? "advice" : to_string(r.category), is_advice(r) ? "Given when" : "Fires when",
      word_wrap(std::string(r.fires_when), 2, width), is_advice(r) ? "advice" : "rules", r.id);
  for (const auto& t : r.thresholds) {
    out += fmt::format("  {} = {} {}{}\n", t.name, t.value, t.unit, window_words(t));
    out +=
        word_wrap(std::string(t.meaning), 4, width) + word_wrap("source: " + std::string(t.source), 4, width);
  }
  out += "\nEvidence keys\n" + word_wrap(fmt::format("{}", fmt::join(r.evidence_keys, ", ")), 2, width);
  if (const ProbeKind* fleet = find_probe_kind("prometheus"); fleet && fleet->rules.judges(r.id))
    out += word_wrap(fmt::format("through --prometheus also: {}", fmt::join(kFleetEvidenceKeys, ", ")), 2, width);
  out += std::string(is_advice(r) ? "\nLever\n" : "\nFix\n") + word_wrap(std::string(r.fix), 2, width);
  out += "\nJudged by\n" + word_wrap(is_advice(r) ? "the advice step, after the ranking (src/core/advice.cpp)"
                                                  : judged_by(r.id),
                                     2, width);
  return out;
}

// One rule per entry: id and category, then what fires it, wrapped under them.
std::string rule_list_text(size_t width) {
  std::string out;
  for (const auto& r : rule_catalog()) {
    out += fmt::format("{:<28} {}\n", r.id, to_string(r.category));
    out += word_wrap(std::string(r.fires_when), 4, width);
  }
  out += "\nAdvice: which scaling lever the measurements call for (thresholds under [advice.\"ID\"])\n";
  for (const auto& a : advice_catalog()) {
    out += fmt::format("{:<28} {}\n", a.id, "advice");
    out += word_wrap(std::string(a.fires_when), 4, width);
  }
  out +=
      "\n" + word_wrap(
                 "`chokepoint rules RULE` shows a rule's thresholds, their sources and the fix, and marks "
                 "those that scale with the window (rates and time shares, e.g. ms/s) and those that apply "
                 "to one snapshot of cumulative statistics only (--window 0).",
                 0, width);
  return out;
}

}  // namespace

int run_rules(const std::optional<std::string>& rule, const std::string& format) {
  if (format != "text" && format != "json") throw UsageError("rules --format: expected text or json");
  if (rule) {
    const RuleSpec* spec = find_rule(*rule);
    if (!spec) spec = find_advice(*rule);
    if (!spec) {
      std::vector<std::string> ids;
      for (const auto& r : rule_catalog()) ids.emplace_back(r.id);
      for (const auto& a : advice_catalog()) ids.emplace_back(a.id);
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
    for (const auto& a : advice_catalog()) all.push_back(rule_to_json(a));
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
  } catch (const InputError& e) {
    std::fprintf(stderr, "chokepoint: %s\n", e.what());
    return kExitTargetError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chokepoint: internal error: %s (a bug: please report it)\n", e.what());
    return kExitInternal;
  } catch (...) {
    std::fprintf(stderr, "chokepoint: internal error (a bug: please report it)\n");
    return kExitInternal;
  }
}

}  // namespace cp
