// libFuzzer target: the OTLP receiver's protobuf reader (and the assembler behind it) on arbitrary
// bytes. Any input must end in spans or a DecodeError, never a crash, hang or sanitizer report.
//   cmake -S . -B build-fuzz -G Ninja -DCHOKEPOINT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   -DCMAKE_C_COMPILER=clang && cmake --build build-fuzz --target fuzz_otlp_protobuf
//   build-fuzz/tests/fuzz_otlp_protobuf -max_total_time=600 tests/fuzz/corpus_otlp
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/otlp/protobuf.hpp"
#include "probes/traces/assemble.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cp::traces::Assembler assembler(
      {.trace_horizon_mb = 1024.0 / 1048576});  // a tiny horizon exercises eviction too
  std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    cp::otlp::read_export_protobuf(body, [&](const cp::traces::RawSpan& s) { assembler.add(s); });
  } catch (const cp::otlp::DecodeError&) {
    return 0;
  }
  (void)assembler.finish();
  return 0;
}
