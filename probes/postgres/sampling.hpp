// What the postgres collector samples: sessions through the window (pg_stat_activity) and, after
// it, the cost of opening a connection. Internal to the collector.
#pragma once

#include "probes/postgres/session.hpp"
#include "probes/postgres/snapshot.hpp"

namespace cp::pg {

// One pg_stat_activity reading `t_s` seconds into the window: counts by state, clients, and the
// notable sessions (waiting, blocking, idle in transaction, in long transactions).
ActivitySample sample_activity(Connection& s, double t_s);

// A few short-lived connections, opened after the window so they are not counted in it.
ConnectTiming measure_connect(const ConnInfo& info, const SessionLimits& limits, int attempts);

}  // namespace cp::pg
