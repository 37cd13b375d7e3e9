// libFuzzer target: every trace reader (OTLP/JSON and JSON Lines, Jaeger objects and bare arrays,
// Zipkin v2 with shared spans, Zipkin v1 refused, a byte order mark), the assembler (trees, stand-ins
// for missing parents, critical paths) and the rules on arbitrary bytes. Any input must end in a
// judgement or a ReadError, never a crash, hang or sanitizer report.
//   cmake -S . -B build-fuzz -G Ninja -DCHOKEPOINT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   -DCMAKE_C_COMPILER=clang cmake --build build-fuzz --target fuzz_trace_readers
//   build-fuzz/tests/fuzz_trace_readers -max_total_time=600 tests/fuzz/corpus
#include <cstddef>
#include <cstdint>

#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cp::traces::Assembler assembler(
      {.trace_horizon_mb = 1024.0 / 1048576});  // a tiny horizon exercises eviction too
  try {
    cp::traces::read_traces_buffer("fuzz", reinterpret_cast<const char*>(data), size,
                                   [&](const cp::traces::RawSpan& s) { assembler.add(s); });
  } catch (const cp::traces::ReadError&) {
    return 0;
  }
  cp::Target target{"traces", "--traces", {""}, "fuzz", {}};
  (void)cp::traces::judge(assembler.finish(), target, {});
  return 0;
}
