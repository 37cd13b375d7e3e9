// libFuzzer target: the readers of files chokepoint did not necessarily write itself — a saved report
// (compare, --baseline) and saved evidence (--replay) — through to what the CLI does with them: the
// gate against itself, judging the evidence with every probe's rules, rendering every format. Any
// input must end in a report or a UsageError / InputError, never a crash, hang or sanitizer report.
//   cmake -S . -B build-fuzz -G Ninja -DCHOKEPOINT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   -DCMAKE_C_COMPILER=clang && cmake --build build-fuzz --target fuzz_report_readers
//   build-fuzz/tests/fuzz_report_readers -max_total_time=600 tests/fuzz/corpus-reports
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/diagnose.hpp"
#include "core/error.hpp"
#include "core/gate.hpp"
#include "core/report_json.hpp"
#include "render/render.hpp"
#include "util/json_input.hpp"

namespace {

void render_all(const cp::Report& r) {
  for (auto f : {cp::Format::text, cp::Format::json, cp::Format::markdown, cp::Format::junit,
                 cp::Format::prometheus, cp::Format::sarif, cp::Format::html})
    (void)cp::render(r, f, {});
}

void as_report(const std::string& text) {
  std::string error;
  auto doc = cp::parse_json_input<cp::json>(text, error);
  if (!doc || cp::implausible_number(*doc)) return;
  try {
    cp::Report baseline = cp::report_from_json(*doc);
    cp::Report current = baseline;
    (void)cp::check_same_targets(current, baseline, "fuzz");
    cp::GateOptions gate;
    gate.fail_on = cp::Severity::low;
    gate.baseline = &baseline;
    cp::apply_gate(current, gate);
    (void)cp::exit_code_of(current);
    render_all(current);
  } catch (const cp::UsageError&) {
  } catch (const cp::json::exception&) {
  }
}

void as_evidence(const std::string& text) {
  std::string error;
  auto doc = cp::parse_json_input<nlohmann::json>(text, error);
  if (!doc || cp::implausible_number(*doc)) return;
  try {
    cp::Evidence ev = cp::evidence_from_json(*doc);
    (void)cp::evidence_to_json(ev).dump();
    cp::Report r = cp::judge_evidence(ev, {});
    cp::apply_gate(r, {});
    render_all(r);
  } catch (const cp::UsageError&) {
  } catch (const cp::InputError&) {
  } catch (const nlohmann::json::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  as_report(text);
  as_evidence(text);
  return 0;
}
