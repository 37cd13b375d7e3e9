// The thresholds every per-request pattern rule (N+1, repeated calls, capped fan-out) judges its
// cost with: one family, declared once, read by the traces rules and by the postgres probe's
// declaration of db.n_plus_one. A pattern fires on its count; its cost decides its severity.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/rule_spec.hpp"
#include "probes/sources.hpp"

namespace cp {

struct RequestCostDefaults {
  double min_total_ms;  // critical-path time per request from which it is at least medium
  std::string_view min_total_source;
  double min_request_share;  // or this share of the request (above min_share_ms)
  double min_share_ms;
};

// `own` thresholds of the rule, followed by the family's.
inline std::vector<ThresholdSpec> with_request_cost(std::vector<ThresholdSpec> own,
                                                    const RequestCostDefaults& d) {
  std::vector<ThresholdSpec> family = {
      {"min_cheap_repeats", 5, "calls",
       "repetitions from which a pattern below every cost threshold is still reported, as low (traces)",
       sources::kSentryN1},
      {"min_total_ms", d.min_total_ms, "ms",
       "critical-path time per request from which it is medium or more; below it and below the relative "
       "threshold it is low (traces)",
       d.min_total_source},
      {"min_request_share", d.min_request_share, "ratio",
       "or this share of the request's critical path, above min_share_ms (traces)", sources::kRelative},
      {"min_share_ms", d.min_share_ms, "ms", "floor of the relative threshold (traces)",
       sources::kChokepoint},
      {"medium_request_share", 0.05, "ratio",
       "share of the request from which it is medium, else low (traces)", sources::kChokepoint},
      {"high_request_share", 0.2, "ratio", "share of the request from which it is high (traces)",
       sources::kChokepoint},
      {"critical_request_share", 0.5, "ratio", "share of the request from which it is critical (traces)",
       sources::kChokepoint},
      {"high_total_ms", 500, "ms", "critical-path time per request from which it is high, whatever its share",
       sources::kChokepoint},
      {"critical_total_ms", 2000, "ms",
       "critical-path time per request from which it is critical, whatever its share", sources::kChokepoint},
  };
  own.insert(own.end(), family.begin(), family.end());
  return own;
}

// The severity a per-request cost earns under the family's thresholds; `p[name]` reads one (a rule's
// RuleParams, or the thresholds a finding carries when its cost is restated: src/core/reconcile.cpp).
// Low below both reporting floors (the pattern then fires on its count alone).
template <typename Params>
Severity request_cost_severity(double per_request_ms, double share, const Params& p) {
  bool worth = per_request_ms >= p["min_total_ms"] ||
               (share >= p["min_request_share"] && per_request_ms >= p["min_share_ms"]);
  if (!worth) return Severity::low;
  if (per_request_ms >= p["critical_total_ms"] || share >= p["critical_request_share"]) return Severity::critical;
  Severity s = share >= p["high_request_share"]     ? Severity::high
               : share >= p["medium_request_share"] ? Severity::medium
                                                    : Severity::low;
  return per_request_ms >= p["high_total_ms"] ? std::max(s, Severity::high) : s;
}

}  // namespace cp
