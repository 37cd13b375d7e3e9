#include "probes/traces/probe.hpp"

#include "probes/traces/collector.hpp"
#include "probes/traces/levers.hpp"
#include "probes/traces/rules.hpp"

namespace cp {

namespace {

// `spec` holds every --traces file, one per line.
std::string describe(const std::string&, const std::string& spec, std::vector<std::string>&) {
  std::string out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t nl = spec.find('\n', start);
    std::string file = spec.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    out += (out.empty() ? "" : ",") + (file == "-" ? std::string("<stdin>") : file);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

Judgement judge(const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
  auto snap = snapshot.get<traces::Snapshot>();
  Judgement j = traces::judge(snap, target, settings);
  j.levers.traces.push_back(traces::trace_load(snap, target.name, j.attribution));
  return j;
}

}  // namespace

ProbeKind traces_probe() {
  return {
      "traces",
      {{"--traces", "FILE",
        "OTLP/JSON, OTLP JSON Lines, Jaeger JSON or Zipkin v2 JSON (detected); - is stdin"}},
      {Category::database, Category::network, Category::code},
      false,
      describe,
      traces::collect,
      judge,
      {"db.n_plus_one", "db.repeated_identical_query", "db.slow_query", "net.slow_external_call",
       "net.repeated_external_call", "net.sequential_external_calls", "net.capped_concurrency",
       "net.external_errors", "code.self_time_hotspot"},
      {{"sequential_max_gap_ms", 500}, {"sequential_min_call_ms", 50}, {"trace_horizon_mb", 64}},
      {"spans", "routes"},
  };
}

}  // namespace cp
