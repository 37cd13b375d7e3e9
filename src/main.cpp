// CLI wiring and exit codes only; the commands live in core/commands.cpp.
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "chokepoint/version.hpp"
#include "core/commands.hpp"
#include "core/error.hpp"
#include "core/usage.hpp"
#include "probes/probe.hpp"
#include "util/memory.hpp"

namespace {

// The long flags of a command, for "did you mean".
std::vector<std::string> long_flags(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* o : app.get_options())
    for (const auto& n : o->get_lnames()) out.push_back("--" + n);
  return out;
}

// A parse error, with a suggestion for each mistyped command or flag.
int usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> commands;
  const CLI::App* cmd = &app;
  for (const CLI::App* sub : app.get_subcommands({})) {
    commands.push_back(sub->get_name());
    if (!args.empty() && args[0] == sub->get_name()) cmd = sub;
  }
  std::vector<std::string> rest = cmd == &app ? args : std::vector<std::string>(args.begin() + 1, args.end());
  std::fprintf(stderr, "chokepoint: %s\n", e.what());
  for (const auto& hint :
       cp::typo_hints(rest, cmd == &app ? commands : std::vector<std::string>{}, long_flags(*cmd)))
    std::fprintf(stderr, "chokepoint: %s\n", hint.c_str());
  std::fprintf(stderr, "Run `chokepoint%s --help` for usage.\n",
               cmd == &app ? "" : (" " + cmd->get_name()).c_str());
  return cp::kExitUsage;
}

// The target flags of `diagnose`, as the probes declare them: values and switches (--host).
struct TargetFlags {
  std::vector<std::pair<std::string, std::vector<std::string>>> values;
  std::vector<std::pair<std::string, bool>> switches;

  void add_to(CLI::App* diagnose) {
    values.reserve(16);  // CLI11 keeps pointers into both
    switches.reserve(4);
    const std::string group = "Targets (any combination, each repeatable)";
    for (const auto& kind : cp::probe_kinds())
      for (const auto& f : kind.flags) {
        if (f.value_name.empty()) {
          auto& sw = switches.emplace_back(std::string(f.flag), false);
          diagnose->add_flag(sw.first, sw.second, std::string(f.help))->group(group);
          continue;
        }
        auto& slot = values.emplace_back(std::string(f.flag), std::vector<std::string>{});
        diagnose->add_option(slot.first, slot.second, std::string(f.help))
            ->type_name(std::string(f.value_name))
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
            ->group(group);
      }
  }

  void append_to(std::vector<cp::TargetArg>& targets) const {
    for (const auto& [flag, given] : values)
      for (const auto& v : given) targets.push_back({flag, v});
    for (const auto& [flag, on] : switches)
      if (on) targets.push_back({flag, ""});
  }
};

// Digits, optionally a point and more digits: "10", "2.5".
bool is_decimal(std::string_view s) {
  auto digits = [](std::string_view part) {
    return !part.empty() &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  size_t point = s.find('.');
  return digits(s.substr(0, point)) && (point == std::string_view::npos || digits(s.substr(point + 1)));
}

// Seconds as people write them: "10", "2.5". Not "" (read as 0) or "0x10" (read as 16).
const CLI::Validator& decimal_seconds() {
  static const CLI::Validator v(
      [](std::string& s) {
        return is_decimal(s) ? std::string() : "expected seconds as a decimal number, not \"" + s + "\"";
      },
      "SECONDS");
  return v;
}

CLI::App* add_diagnose(CLI::App& app, cp::DiagnoseArgs& d, TargetFlags& targets) {
  auto* diagnose = app.add_subcommand("diagnose", "sample the targets, rank the bottleneck, write a report");
  diagnose->footer(cp::diagnose_help_footer());
  targets.add_to(diagnose);
  diagnose->add_option("--window", d.window_s, "live sampling window in seconds; 0 = one cumulative snapshot")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(decimal_seconds());
  diagnose
      ->add_option("--threads", d.threads,
                   "threads to parse --traces files on (default 0: the CPUs chokepoint may use, per its "
                   "affinity and cgroup quota); the report is the same at any count")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1024u));
  diagnose->add_option("--format", d.format, "text|json|markdown|junit|prometheus|sarif|html")
      ->type_name("FORMAT")
      ->capture_default_str();
  diagnose->add_option("--output", d.output, "write the report to FILE (atomically); default stdout")
      ->type_name("FILE");
  diagnose->add_option("--config", d.config, "chokepoint.toml: rule levels, thresholds, severities")
      ->type_name("FILE");
  diagnose->add_option("--baseline", d.baseline, "an earlier JSON report to compare with")->type_name("FILE");
  diagnose
      ->add_option("--fail-on", d.fail_on,
                   "critical|high|medium|low|never (default: [gate] fail_on, else never)")
      ->type_name("SEVERITY");
  diagnose->add_option("--save-evidence", d.save_evidence, "write the raw collected snapshots to FILE")
      ->type_name("FILE");
  diagnose->add_option("--replay", d.replay, "judge saved evidence instead of collecting")->type_name("FILE");
  return diagnose;
}

CLI::App* add_compare(CLI::App& app, cp::CompareArgs& c) {
  auto* compare =
      app.add_subcommand("compare", "gate two saved JSON reports: new / unchanged / resolved findings");
  compare->footer(cp::compare_help_footer());
  compare->add_option("BASELINE", c.baseline, "the earlier JSON report")->required()->type_name("FILE");
  compare->add_option("CURRENT", c.current, "the later JSON report")->required()->type_name("FILE");
  compare->add_option("--fail-on", c.fail_on, "critical|high|medium|low|never")->type_name("SEVERITY");
  compare->add_option("--format", c.format, "text|json|markdown|junit|prometheus|sarif|html")
      ->type_name("FORMAT")
      ->capture_default_str();
  compare->add_option("--config", c.config, "chokepoint.toml: rule levels, severities, [gate]")
      ->type_name("FILE");
  compare->add_option("--output", c.output, "write the report to FILE (atomically); default stdout")
      ->type_name("FILE");
  return compare;
}

CLI::App* add_rules(CLI::App& app, std::optional<std::string>& rule, std::string& format) {
  auto* rules = app.add_subcommand("rules", "list every rule, or explain one");
  rules->footer(cp::rules_help_footer());
  rules->add_option("RULE", rule, "a rule id, e.g. db.missing_index")->type_name("RULE");
  rules->add_option("--format", format, "text|json")->type_name("FORMAT")->capture_default_str();
  return rules;
}

}  // namespace

int main(int argc, char** argv) {
  cp::tune_allocator();
  CLI::App app{"chokepoint: find where a backend's bottleneck is before paying to scale it"};
  app.name("chokepoint");  // not argv[0]'s full path
  app.footer(cp::main_help_footer());
  app.set_version_flag("--version", std::string("chokepoint ") + cp::kVersion);
  app.require_subcommand(1);
  cp::DiagnoseArgs d;
  TargetFlags targets;
  auto* diagnose = add_diagnose(app, d, targets);
  cp::CompareArgs c;
  auto* compare = add_compare(app, c);
  std::optional<std::string> rule;
  std::string rules_format = "text";
  add_rules(app, rule, rules_format);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e, argc, argv);
  }

  return cp::run_guarded([&] {
    if (diagnose->parsed()) {
      targets.append_to(d.targets);
      return cp::run_diagnose(d);
    }
    if (compare->parsed()) return cp::run_compare(c);
    return cp::run_rules(rule, rules_format);
  });
}
