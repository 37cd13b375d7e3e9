#include "probes/traces/collector.hpp"

#include <fmt/format.h>

#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/window_edges.hpp"

namespace cp::traces {

std::map<std::string, double, std::less<>> analysis_options() {
  AnalysisOptions defaults;
  return {{"sequential_max_gap_ms", defaults.sequential_max_gap_ms},
          {"sequential_min_call_ms", defaults.sequential_min_call_ms},
          {"trace_horizon_mb", defaults.trace_horizon_mb},
          {std::string(kMinRootlessRequestsOption), kMinRootlessRequests}};
}

Assembler assembler_for(const CollectContext& ctx, std::string_view probe) {
  return Assembler({ctx.option(probe, "sequential_max_gap_ms"), ctx.option(probe, "sequential_min_call_ms"),
                    ctx.option(probe, "trace_horizon_mb")});
}

// Every --traces file feeds one assembler: a trace's spans may be
// spread over several files.
Collected collect(const Target& target, const CollectContext& ctx) {
  Assembler assembler = assembler_for(ctx, "traces");
  uint64_t base = 0;  // offsets run on across files
  for (const auto& path : target.specs) {
    ReadStats stats;
    try {
      stats = read_traces(path, [&](const RawSpan& s) { assembler.add(s, base); }, {ctx.threads});
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
