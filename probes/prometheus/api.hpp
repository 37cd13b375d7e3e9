// What the Prometheus HTTP API answers (the same JSON from Prometheus, Thanos, Mimir, Cortex and
// VictoriaMetrics), parsed. Pure.
#pragma once

#include <string>
#include <vector>

#include "probes/prometheus/client.hpp"
#include "probes/prometheus/snapshot.hpp"

namespace cp::prom {

// An instant query's answer into `out` (status, error, warnings, result). A vector result only:
// scalars become one sample without labels; NaN samples are left out.
void read_query_answer(const Answer& a, QueryResult& out);

// /api/v1/label/__name__/values: the names; throws std::runtime_error with the engine's (or the
// transport's) reason when the answer is not a success.
std::vector<std::string> read_names_answer(const Answer& a);

// "HTTP 401: <the engine's error or the body's first line>", "timeout after …": why a request failed.
std::string failure_of(const Answer& a);

}  // namespace cp::prom
