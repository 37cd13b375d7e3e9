// CLI wiring and exit codes only; the commands live in core/commands.cpp.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "chokepoint/version.hpp"
#include "core/commands.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"

int main(int argc, char** argv) {
  CLI::App app{"chokepoint: find where a backend's bottleneck is before paying to scale it"};
  app.set_version_flag("--version", std::string("chokepoint ") + cp::kVersion);
  app.require_subcommand(1);

  cp::DiagnoseArgs d;
  auto* diagnose = app.add_subcommand("diagnose", "sample the targets, rank the bottleneck, write a report");
  std::vector<std::pair<std::string, std::vector<std::string>>> target_values;
  std::vector<std::pair<std::string, bool>> target_switches;  // flags without a value (--host)
  target_values.reserve(16);
  target_switches.reserve(4);
  const std::string group = "Targets (any combination, each repeatable)";
  for (const auto& kind : cp::probe_kinds())
    for (const auto& f : kind.flags) {
      if (f.value_name.empty()) {
        auto& sw = target_switches.emplace_back(std::string(f.flag), false);
        diagnose->add_flag(sw.first, sw.second, std::string(f.help))->group(group);
        continue;
      }
      auto& slot = target_values.emplace_back(std::string(f.flag), std::vector<std::string>{});
      diagnose->add_option(slot.first, slot.second, std::string(f.help))
          ->type_name(std::string(f.value_name))
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
          ->group(group);
    }
  diagnose->add_option("--window", d.window_s, "live sampling window in seconds; 0 = one cumulative snapshot")
      ->capture_default_str();
  diagnose->add_option("--format", d.format, "text|json|markdown|junit|prometheus")->capture_default_str();
  diagnose->add_option("--output", d.output, "write the report to FILE (atomically); default stdout");
  diagnose->add_option("--config", d.config, "chokepoint.toml: rule levels, thresholds, severities");
  diagnose->add_option("--baseline", d.baseline, "an earlier JSON report to compare with");
  diagnose->add_option("--fail-on", d.fail_on,
                       "critical|high|medium|low|never (default: [gate] fail_on, else never)");
  diagnose->add_option("--save-evidence", d.save_evidence, "write the raw collected snapshots to FILE");
  diagnose->add_option("--replay", d.replay, "judge saved evidence instead of collecting");

  cp::CompareArgs c;
  auto* compare =
      app.add_subcommand("compare", "gate two saved JSON reports: new / unchanged / resolved findings");
  compare->add_option("BASELINE", c.baseline, "the earlier JSON report")->required();
  compare->add_option("CURRENT", c.current, "the later JSON report")->required();
  compare->add_option("--fail-on", c.fail_on, "critical|high|medium|low|never");
  compare->add_option("--format", c.format, "text|json|markdown|junit|prometheus")->capture_default_str();
  compare->add_option("--config", c.config, "chokepoint.toml: rule levels, severities, [gate]");
  compare->add_option("--output", c.output, "write the report to FILE (atomically); default stdout");

  std::optional<std::string> rule;
  std::string rules_format = "text";
  auto* rules = app.add_subcommand("rules", "list every rule, or explain one");
  rules->add_option("RULE", rule, "a rule id, e.g. db.missing_index");
  rules->add_option("--format", rules_format, "text|json")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "chokepoint: %s\nRun with --help for usage.\n", e.what());
    return cp::kExitUsage;
  }

  try {
    if (diagnose->parsed()) {
      for (const auto& [flag, values] : target_values)
        for (const auto& v : values) d.targets.push_back({flag, v});
      for (const auto& [flag, on] : target_switches)
        if (on) d.targets.push_back({flag, ""});
      return cp::run_diagnose(d);
    }
    if (compare->parsed()) return cp::run_compare(c);
    return cp::run_rules(rule, rules_format);
  } catch (const cp::UsageError& e) {
    std::fprintf(stderr, "chokepoint: %s\n", e.what());
    return cp::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chokepoint: internal error: %s\n", e.what());
    return cp::kExitUsage;
  }
}
