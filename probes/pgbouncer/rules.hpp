// PgBouncer rules: pure functions of the admin-console snapshot.
#pragma once

#include <vector>

#include "core/settings.hpp"
#include "probes/pgbouncer/snapshot.hpp"
#include "probes/probe.hpp"

namespace cp::pgb {

// Per pool (database/user), over the window.
struct PoolLoad {
  std::string database, user, pool_mode;
  double pool_size = 0;
  double avg_waiting = 0, max_waiting = 0, avg_active = 0, avg_servers_active = 0, maxwait_ms = 0;
  // From SHOW STATS of the pool's database (deltas, or PgBouncer's own averages for window 0).
  double xacts = 0, queries = 0;
  std::optional<double> avg_xact_ms, avg_query_ms, wait_per_xact_ms;
};

std::vector<PoolLoad> pool_loads(const Snapshot& s);
Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
RuleDeclarations rule_declarations();  // its rule table, for the registry

}  // namespace cp::pgb
