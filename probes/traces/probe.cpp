#include "probes/traces/probe.hpp"

#include <algorithm>

#include "core/error.hpp"

#include "probes/traces/collector.hpp"
#include "probes/traces/levers.hpp"
#include "probes/traces/rules.hpp"
#include "probes/traces/window_edges.hpp"

namespace cp {

namespace {

// Every --traces file is one input of one target; stdin can be one of them, once.
std::string describe_traces_target(const std::string&, const std::vector<std::string>& files,
                                   std::vector<std::string>&) {
  if (std::count(files.begin(), files.end(), "-") > 1)
    throw UsageError("--traces: stdin (-) can be read only once");
  std::string out;
  for (const auto& file : files)
    out += (out.empty() ? "" : ",") + (file == "-" ? std::string("<stdin>") : file);
  return out;
}

Judgement judge_traces_snapshot(const nlohmann::json& snapshot, const Target& target,
                                const Settings& settings) {
  auto snap = snapshot.get<traces::Snapshot>();
  Judgement j = traces::judge(snap, target, settings);
  // The levers see the routes the rules judged: none of a request cut by the window.
  traces::set_aside_cut_routes(snap, traces::min_rootless_requests("traces", settings));
  j.levers.traces.push_back(traces::trace_load(snap, target.name, j.attribution));
  return j;
}

}  // namespace

ProbeKind traces_probe() {
  return {
      "traces",
      {{"--traces", "FILE",
        "OTLP/JSON, OTLP JSON Lines, Jaeger JSON or Zipkin v2 JSON (detected); - is stdin", true}},
      {Category::database, Category::network, Category::code},
      false,
      describe_traces_target,
      traces::collect,
      judge_traces_snapshot,
      traces::rule_declarations(),
      traces::analysis_options(),
      {"spans", "routes"},
  };
}

}  // namespace cp
