// What the Prometheus collector read: the metric names that exist (discovery), then each PromQL
// expression it sent with its result, aggregated by the engine. The rules re-judge it offline.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp::prom {

// One sample of an instant vector: the labels the expression kept, and the value.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Sample, labels, value)

struct QueryResult {
  std::string id;      // "container.cpu_periods": what the rules look it up by
  std::string expr;    // the PromQL sent
  std::string status;  // "ok" | "error"
  std::string error;   // the engine's error, or the transport's
  std::vector<std::string> warnings;  // Thanos partial responses, engine warnings
  std::vector<Sample> result;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(QueryResult, id, expr, status, error, warnings, result)

struct Snapshot {
  std::string source;       // redacted base URL
  double at = 0;            // unix seconds: the end of the judged window
  double range_s = 0;       // the range every expression aggregates over
  std::string match;        // --match, as given ("" for none)
  std::vector<std::string> names;  // metric names found that a family reads (discovery)
  std::vector<QueryResult> queries;
  int requests = 0;  // HTTP requests sent (discovery + queries)
  std::vector<std::string> notes;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, source, at, range_s, match, names, queries, requests,
                                                notes)

}  // namespace cp::prom
