// The thresholds every per-request pattern rule (N+1, repeated calls, capped fan-out) judges its
// cost with: one family, declared once, read by the traces rules and by the postgres probe's
// declaration of db.n_plus_one. A pattern fires on its count; its cost decides its severity.
#pragma once

#include <string_view>
#include <vector>

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

}  // namespace cp
