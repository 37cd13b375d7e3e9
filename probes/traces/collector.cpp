#include "probes/traces/collector.hpp"

#include <fmt/format.h>

#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"

namespace cp::traces {

// Every --traces file feeds one assembler: a trace's spans may be
// spread over several files.
Collected collect(const Target& target, const CollectContext& ctx) {
  double gap = ctx.settings ? ctx.settings->probe_option("traces", "sequential_max_gap_ms", 500) : 500;
  double min_call = ctx.settings ? ctx.settings->probe_option("traces", "sequential_min_call_ms", 50) : 50;
  double horizon_mb = ctx.settings ? ctx.settings->probe_option("traces", "trace_horizon_mb", 64) : 64;
  Assembler assembler(gap, min_call, static_cast<uint64_t>(horizon_mb * 1048576));
  uint64_t base = 0;  // offsets run on across files
  for (const auto& path : target.specs) {
    ReadStats stats;
    try {
      stats = read_traces(path, [&](const RawSpan& s) { assembler.add(s, base); });
    } catch (const ReadError& e) {
      return {ProbeStatus::error, e.message, {}};
    }
    std::string name = path == "-" ? "<stdin>" : path;
    if (stats.spans == 0)
      return {
          ProbeStatus::error,
          fmt::format("{}: no spans in this {} input: nothing to examine (is the exporter sending spans?)",
                      name, to_string(stats.format)),
          {}};
    assembler.add_file(
        {name, to_string(stats.format), static_cast<double>(stats.bytes), static_cast<double>(stats.spans)});
    base += stats.bytes;
  }
  return {ProbeStatus::ok, "", assembler.finish()};
}

}  // namespace cp::traces
