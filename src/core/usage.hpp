// What --help says beyond the option list (exit codes, examples), and the "did you mean" of a
// mistyped command or flag. Texts only: main.cpp wires them into the parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cp {

std::string exit_codes_help();   // the table of CONTRACT.md's exit codes, for every --help
std::string main_help_footer();  // chokepoint --help: commands' examples, exit codes, where the contract is
std::string diagnose_help_footer();
std::string compare_help_footer();
std::string rules_help_footer();

// The candidate closest to `word` (edit distance, adjacent swaps count one), when close enough to
// be what was meant; nullopt otherwise.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

// For each argument of `args` that is neither a known flag (`--name` or `--name=value`) nor, in
// first position, a known command, one "did you mean" line. `flags` are the flags of the command
// being parsed; values that follow a flag are not judged.
std::vector<std::string> typo_hints(const std::vector<std::string>& args,
                                    const std::vector<std::string>& commands,
                                    const std::vector<std::string>& flags);

}  // namespace cp
