// libFuzzer target: every trace reader (OTLP/JSON and JSON Lines, Jaeger objects and bare arrays,
// Zipkin v2 with shared spans, Zipkin v1 refused, a byte order mark), the assembler (trees, stand-ins
// for missing parents, critical paths) and the rules on arbitrary bytes. Any input must end in a
// judgement or a ReadError, never a crash, hang or sanitizer report. The same bytes are also read by
// the parallel JSON Lines reader (3 threads, blocks of a few lines): its spans, counts and error must
// be the line-by-line reader's, or the target aborts (#24).
//   cmake -S . -B build-fuzz -G Ninja -DCHOKEPOINT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
//   -DCMAKE_C_COMPILER=clang cmake --build build-fuzz --target fuzz_trace_readers
//   build-fuzz/tests/fuzz_trace_readers -max_total_time=600 tests/fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"

namespace {

// What a reader handed the sink, in order (ids, times, offsets and the strings that are most often
// set), and how it ended.
std::string reading(const char* data, size_t size, const cp::traces::ReadOptions& options) {
  std::string out;
  try {
    auto stats = cp::traces::read_traces_buffer("fuzz", data, size, [&](const cp::traces::RawSpan& s) {
      out += std::to_string(s.trace.hi ^ s.trace.lo) + ' ' + std::to_string(s.id) + ' ' + std::to_string(s.parent) +
             ' ' + std::to_string(s.start_ns) + ' ' + std::to_string(s.end_ns) + ' ' + std::to_string(s.offset) +
             ' ' + std::string(s.name) + '|' + std::string(s.service) + '|' + std::string(s.db_statement) + '|' +
             std::string(s.url) + '|' + std::string(s.host) + '\n';
    }, options);
    out += "ok " + std::to_string(stats.spans) + ' ' + std::to_string(stats.lines) + ' ' +
           std::to_string(stats.bytes);
  } catch (const cp::traces::ReadError& e) {
    out += "error " + e.message;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  if (reading(text, size, {}) != reading(text, size, {3, 64})) {
    std::fprintf(stderr, "the parallel JSON Lines reader differs from the line-by-line reader\n");
    std::abort();
  }
  cp::traces::Assembler assembler(
      {.trace_horizon_mb = 1024.0 / 1048576});  // a tiny horizon exercises eviction too
  try {
    cp::traces::read_traces_buffer("fuzz", text, size, [&](const cp::traces::RawSpan& s) { assembler.add(s); });
  } catch (const cp::traces::ReadError&) {
    return 0;
  }
  cp::Target target{"traces", "--traces", {""}, "fuzz", {}};
  (void)cp::traces::judge(assembler.finish(), target, {});
  return 0;
}
