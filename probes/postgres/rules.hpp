// PostgreSQL rules: pure functions from a snapshot and thresholds to findings. No I/O.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/rule_spec.hpp"
#include "core/settings.hpp"
#include "probes/postgres/snapshot.hpp"
#include "probes/probe.hpp"

namespace cp::pg {

// Numbers every rule needs, derived once from the snapshot.
struct Workload {
  const Snapshot* snap = nullptr;
  std::string component;   // "postgres:shop"
  double db_time_ms = 0;   // statement execution time in the window
  double calls = 0;        // statement calls in the window
  double time_base_s = 0;  // the window, or the statistics' age for cumulative readings; 0 = unknown
  double xacts = 0;        // transactions committed + rolled back

  const Statement* statement(int64_t queryid) const;
  double counter_delta(const std::string& column) const;  // pg_stat_database end - start
  double per_s(double v) const { return time_base_s > 0 ? v / time_base_s : 0; }
};

Workload derive_workload(const Snapshot& snap);

std::vector<Finding> missing_index(const Workload& w, const RuleParams& p);
// `covered`: queryids another finding already explains (a missing index), left out here.
std::vector<Finding> slow_query(const Workload& w, const RuleParams& p, const std::set<int64_t>& covered);
std::vector<Finding> n_plus_one(const Workload& w, const RuleParams& p);
std::vector<Finding> low_cache_hit(const Workload& w, const RuleParams& p);

std::vector<std::string> collection_notes(const Workload& w);
std::vector<Metric> workload_metrics(const Workload& w, const std::string& target);

Judgement judge(const Snapshot& snap, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry

}  // namespace cp::pg
