// Probes own their inputs and options: the traces probe gathers every --traces file into one target
// and refuses stdin twice; option defaults are read from the probe's declaration.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "core/commands.hpp"
#include "core/error.hpp"
#include "core/settings.hpp"
#include "harness.hpp"
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

TEST_CASE("a collection option reads the probe's declared default unless the config sets it") {
  CollectContext ctx;
  CHECK(ctx.option("redis", "timeout_ms") == find_probe_kind("redis")->options.at("timeout_ms"));
  CHECK(declared_option("postgres", "explain_top") == 20);
  CHECK_THROWS_AS(ctx.option("redis", "no_such_option"), std::logic_error);
  Settings settings;
  settings.probe_options["postgres"]["sample_interval_ms"] = 10;
  ctx.settings = &settings;
  CHECK(ctx.option("postgres", "sample_interval_ms") == 10);
  CHECK(interval_option(ctx, "postgres", "sample_interval_ms", 50) == doctest::Approx(0.05));
  CHECK(ctx.option("postgres", "explain_top") == 20);
}

TEST_CASE("the trace analysis options are declared once for --traces and --otlp-listen") {
  const auto& traces = find_probe_kind("traces")->options;
  const auto& otlp = find_probe_kind("otlp")->options;
  for (const auto& [name, value] : traces) CHECK(otlp.at(name) == value);
}

TEST_CASE("the shared sampling loop stops when the sampler has enough, and samples once in a zero window") {
  CollectContext ctx;
  ctx.window_end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int samples = 0;
  sample_through_window(
      ctx, 0.001, [&](double) { ++samples; }, [&] { return samples < 3; });
  CHECK(samples == 3);
  ctx.window_s = 0;
  ctx.window_end = std::chrono::steady_clock::now();
  samples = 0;
  sample_through_window(ctx, 0.001, [&](double) { ++samples; });
  CHECK(samples == 1);
}

TEST_CASE("postgres and pgbouncer name a DSN the same way and keep both of its passwords secret") {
  for (const char* kind : {"postgres", "pgbouncer"}) {
    std::vector<std::string> secrets;
    std::string name = find_probe_kind(kind)->describe(
        "--" + std::string(kind), {"host=db port=6432 user=app dbname=shop password=pw1 sslpassword=pw2"},
        secrets);
    CHECK(name == "postgresql://app@db:6432/shop");
    CHECK(secrets == std::vector<std::string>{"pw1", "pw2"});
  }
  std::vector<std::string> secrets;
  CHECK_THROWS_AS(find_probe_kind("pgbouncer")->describe("--pgbouncer", {"postgresql://[broken"}, secrets),
                  UsageError);
}

namespace {

// Option defaults a probe README states: table rows "| `a`, `b` | 1, 2 |" and inline "`a` (1)".
std::multimap<std::string, double> documented_defaults(const std::string& readme) {
  std::multimap<std::string, double> out;
  static const std::regex row(R"(^\| ((?:`\w+`(?:, )?)+) \| ([0-9.]+(?:, [0-9.]+)*) \|)");
  static const std::regex inline_default(R"(`(\w+)` \(([0-9.]+))");
  static const std::regex name(R"(`(\w+)`)"), number(R"([0-9.]+)");
  std::istringstream lines(readme);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) {
      std::string names = m[1], values = m[2];
      std::sregex_iterator n(names.begin(), names.end(), name), v(values.begin(), values.end(), number), end;
      for (; n != end && v != end; ++n, ++v) out.emplace((*n)[1], std::stod(v->str()));
    }
    for (std::sregex_iterator i(line.begin(), line.end(), inline_default), end; i != end; ++i)
      out.emplace((*i)[1], std::stod((*i)[2]));
  }
  return out;
}

}  // namespace

TEST_CASE("each probe README states its options with the defaults the probe declares") {
  for (const auto& kind : probe_kinds()) {
    auto documented = documented_defaults(
        test::slurp(test::source_dir() + "/probes/" + std::string(kind.name) + "/README.md"));
    for (const auto& [option, value] : kind.options) {
      INFO(kind.name, " ", option);
      auto [first, last] = documented.equal_range(option);
      CHECK(first != last);
      for (auto it = first; it != last; ++it) CHECK(it->second == value);
    }
  }
}
