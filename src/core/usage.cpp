#include "core/usage.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace cp {

std::string exit_codes_help() {
  return "Exit codes:\n"
         "  0  ran; the gate passed (or there was no gate)\n"
         "  1  ran; the gate failed (--fail-on)\n"
         "  2  usage or configuration error\n"
         "  3  a target could not be examined (the report is still written)\n"
         "  4  internal error (a bug: please report it with the message)\n";
}

std::string main_help_footer() {
  return "\nExamples:\n"
         "  chokepoint diagnose --postgres postgresql://app@db:5432/shop --window 10\n"
         "  chokepoint diagnose --traces spans.jsonl --redis redis://cache:6379 --format markdown\n"
         "  chokepoint compare baseline.json current.json --fail-on high\n"
         "  chokepoint rules db.missing_index\n\n" +
         exit_codes_help() +
         "\n`chokepoint COMMAND --help` shows a command's options. The contract (flags, exit codes, "
         "JSON report) is CONTRACT.md, installed beside the report schema.\n";
}

std::string diagnose_help_footer() {
  return "\nExamples:\n"
         "  chokepoint diagnose --postgres postgresql://app@db:5432/shop --window 10\n"
         "  chokepoint diagnose --postgres \"$DATABASE_URL\" --traces otel-spans.jsonl --window 30 \\\n"
         "      --baseline baseline.json --fail-on high --format junit --output chokepoint.xml\n"
         "  chokepoint diagnose --pid 4242 --host --save-evidence evidence.json\n"
         "  chokepoint diagnose --replay evidence.json --format json\n\n" +
         exit_codes_help();
}

std::string compare_help_footer() {
  return "\nExamples:\n"
         "  chokepoint compare baseline.json current.json --fail-on high\n"
         "  chokepoint compare baseline.json current.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n\n" +
         exit_codes_help();
}

std::string rules_help_footer() {
  return "\nExamples:\n"
         "  chokepoint rules\n"
         "  chokepoint rules db.missing_index\n"
         "  chokepoint rules --format json\n\n" +
         exit_codes_help();
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    // A prefix of a longer name ("--base" for "--baseline") is what was meant, whatever the length.
    if (c.size() > word.size() && word.size() >= 4 && c.compare(0, word.size(), word) == 0) d = 1;
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::vector<std::string> typo_hints(const std::vector<std::string>& args,
                                    const std::vector<std::string>& commands,
                                    const std::vector<std::string>& flags) {
  std::vector<std::string> hints;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      std::string name = a.substr(0, a.find('='));
      if (contains(flags, name) || name == "--help" || name == "--version") continue;
      if (auto m = closest_match(name, flags))
        hints.push_back(fmt::format("unknown option {}: did you mean {}?", name, *m));
      else
        hints.push_back(fmt::format("unknown option {}", name));
    } else if (i == 0 && !a.empty() && a[0] != '-' && !contains(commands, a)) {
      if (auto m = closest_match(a, commands))
        hints.push_back(fmt::format("unknown command {}: did you mean {}?", a, *m));
      else
        hints.push_back(fmt::format("unknown command {}: the commands are {}", a, fmt::join(commands, ", ")));
    }
  }
  return hints;
}

}  // namespace cp
