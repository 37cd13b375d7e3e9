// Each probe validates its own inputs: the traces probe gathers every --traces file into one target
// and refuses stdin twice.
#include <doctest/doctest.h>

#include "core/commands.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"

using namespace cp;

TEST_CASE("the traces probe names its files and reads stdin once") {
  const ProbeKind* traces = find_probe_kind("traces");
  REQUIRE(traces);
  std::vector<std::string> secrets;
  CHECK(traces->describe("--traces", {"a.json", "-", "b.jsonl"}, secrets) == "a.json,<stdin>,b.jsonl");
  CHECK_THROWS_WITH_AS(traces->describe("--traces", {"-", "a.json", "-"}, secrets),
                       "--traces: stdin (-) can be read only once", UsageError);
  CHECK(secrets.empty());
}

TEST_CASE("--traces gathers into one target, and stdin given twice is a usage error (exit 2)") {
  for (const auto& kind : probe_kinds())
    for (const auto& flag : kind.flags) CHECK(flag.gathers == (flag.flag == "--traces"));
  DiagnoseArgs args;
  args.targets = {{"--traces", "-"}, {"--traces", "-"}};
  CHECK(run_guarded([&] { return run_diagnose(args); }) == kExitUsage);
}
