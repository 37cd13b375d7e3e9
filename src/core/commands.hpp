// The commands behind the CLI: each returns the process exit code (CONTRACT.md) and throws
// UsageError for usage and configuration errors, which main maps to exit 2.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cp {

struct TargetArg {
  std::string flag;  // "--postgres"
  std::string value;
};

struct DiagnoseArgs {
  std::vector<TargetArg> targets;
  double window_s = 10;
  unsigned threads = 0;  // 0: the CPUs chokepoint may use (affinity, cgroup quota)
  std::string format = "text";
  std::optional<std::string> output, config, baseline, save_evidence, replay;
  std::optional<std::string> fail_on;  // unset: [gate] fail_on from the config, else "never"
};

struct CompareArgs {
  std::string baseline, current;
  std::string format = "text";
  std::optional<std::string> output, config, fail_on;
};

int run_diagnose(const DiagnoseArgs& args);
int run_compare(const CompareArgs& args);
int run_rules(const std::optional<std::string>& rule, const std::string& format);

// Runs a command and maps what escapes it to an exit code with one line on stderr: UsageError is 2,
// anything else is a bug in chokepoint, 4 (kExitInternal), never mistaken for a usage error.
int run_guarded(const std::function<int()>& command);

}  // namespace cp
