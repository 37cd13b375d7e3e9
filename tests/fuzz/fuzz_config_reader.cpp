// libFuzzer target: chokepoint.toml. Any input must end in Settings or a UsageError naming the
// problem, never a crash, hang or sanitizer report; accepted settings must be usable by every rule.
//   cmake --build build-fuzz --target fuzz_config_reader
//   build-fuzz/tests/fuzz_config_reader -max_total_time=600 tests/fuzz/corpus-config
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    cp::Settings s = cp::parse_config(text, "fuzz.toml");
    // What the config accepted, every rule can read: finite, non-negative thresholds.
    for (const auto& [target, rules] : s.per_target) (void)s.for_target(target);
    for (const auto& spec : cp::rule_catalog()) {
      cp::RuleParams p = s.params(spec);
      for (const auto& t : spec.thresholds)
        if (!std::isfinite(p[t.name]) || p[t.name] < 0) std::abort();
      (void)p.make_finding("fuzz");
    }
  } catch (const cp::UsageError&) {
  }
  return 0;
}
