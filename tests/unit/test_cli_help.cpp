// What a first-time user meets: --help with exit codes and examples, suggestions for typos, the
// internal-error exit code, the one stderr line after --output.
#include <doctest/doctest.h>

#include <stdexcept>

#include "core/commands.hpp"
#include "core/error.hpp"
#include "core/usage.hpp"
#include "harness.hpp"

using namespace cp::test;

namespace {
bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("--help and diagnose --help: exit codes, examples, the program's name, no TEXT placeholders") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"diagnose", "--help"}, {"compare", "--help"}, {"rules", "--help"}}) {
    std::vector<std::string> argv{chokepoint_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    CAPTURE(args.front());
    CHECK(r.exit_code == 0);
    CHECK(has(r.out, "Usage: chokepoint"));
    CHECK_FALSE(has(r.out, chokepoint_bin()));  // never argv[0]'s full path
    CHECK_FALSE(has(r.out, "TEXT"));
    CHECK_FALSE(has(r.out, "FLOAT"));
    CHECK(has(r.out, "Exit codes:"));
    for (const char* code : {"  0  ", "  1  ", "  2  ", "  3  ", "  4  internal error"})
      CHECK(has(r.out, code));
    CHECK(has(r.out, "Examples:\n  chokepoint "));
  }
  auto d = run({chokepoint_bin(), "diagnose", "--help"});
  CHECK(has(d.out, "--baseline FILE"));
  CHECK(has(d.out, "--fail-on SEVERITY"));
  CHECK(has(d.out, "--window SECONDS"));
  CHECK(has(d.out, "--postgres DSN"));
}

TEST_CASE("a mistyped command or flag gets a suggestion and exit 2") {
  auto bin = chokepoint_bin();
  auto cmd = run({bin, "diagnos", "--postgres", "host=x"});
  CHECK(cmd.exit_code == 2);
  CHECK(has(cmd.err, "did you mean diagnose?"));
  auto flag = run({bin, "diagnose", "--postgress", "host=x", "--windw", "3"});
  CHECK(flag.exit_code == 2);
  CHECK(has(flag.err, "unknown option --postgress: did you mean --postgres?"));
  CHECK(has(flag.err, "unknown option --windw: did you mean --window?"));
  CHECK(has(flag.err, "chokepoint diagnose --help"));
  auto prefix = run({bin, "compare", "a.json", "b.json", "--fail=high"});
  CHECK(prefix.exit_code == 2);
  CHECK(has(prefix.err, "did you mean --fail-on?"));
  auto far = run({bin, "diagnose", "--xyzzy-plugh"});
  CHECK(far.exit_code == 2);
  CHECK(has(far.err, "unknown option --xyzzy-plugh"));
  CHECK_FALSE(has(far.err, "did you mean"));
  auto rule = run({bin, "rules", "db.missing_idx"});
  CHECK(rule.exit_code == 2);
  CHECK(has(rule.err, "did you mean db.missing_index?"));
}

TEST_CASE("closest_match: edits, swaps and prefixes are near, unrelated words are not") {
  std::vector<std::string> flags{"--window", "--baseline", "--fail-on", "--format", "--output"};
  CHECK(cp::closest_match("--widnow", flags) == "--window");  // adjacent swap
  CHECK(cp::closest_match("--base", flags) == "--baseline");  // prefix
  CHECK(cp::closest_match("--fromat", flags) == "--format");
  CHECK_FALSE(cp::closest_match("--verbose", flags).has_value());
  CHECK(cp::typo_hints({"--window", "5", "--ouput", "x"}, {}, flags) ==
        std::vector<std::string>{"unknown option --ouput: did you mean --output?"});
}

TEST_CASE("an internal error exits 4, never 2, usage errors exit 2") {
  CHECK(cp::kExitInternal == 4);
  CHECK(cp::run_guarded([]() -> int { throw std::logic_error("broken invariant"); }) == cp::kExitInternal);
  CHECK(cp::run_guarded([]() -> int { throw 42; }) == cp::kExitInternal);
  CHECK(cp::run_guarded([]() -> int { throw cp::UsageError("bad flag"); }) == cp::kExitUsage);
  CHECK(cp::run_guarded([] { return cp::kExitGateFailed; }) == cp::kExitGateFailed);
}

TEST_CASE("after --output, one stderr line says the verdict, the gate and where the report went") {
  std::string out = temp_path("announced.json");
  auto r = run({chokepoint_bin(), "diagnose", "--replay",
                source_dir() + "/tests/fixtures/postgres/missing_index.evidence.json", "--fail-on", "high",
                "--format", "json", "--output", out});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(has(r.err,
            "chokepoint: verdict database (99 % confidence — 3 of 4 categories not examined), gate fail; "
            "1 finding; report written to " +
                out + "\n"));
  auto to_stdout = run({chokepoint_bin(), "diagnose", "--replay",
                        source_dir() + "/tests/fixtures/postgres/missing_index.evidence.json"});
  CHECK_FALSE(has(to_stdout.err, "report written"));
  auto cmp =
      run({chokepoint_bin(), "compare", out, out, "--output", temp_path("cmp.md"), "--format", "markdown"});
  CHECK(cmp.exit_code == 0);
  CHECK(has(cmp.err, "gate pass; 1 finding; report written to"));
}
