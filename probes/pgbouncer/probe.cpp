#include "probes/pgbouncer/probe.hpp"

#include <array>
#include <cstdlib>
#include <map>

#include "core/error.hpp"
#include "probes/pgbouncer/collector.hpp"
#include "probes/pgbouncer/rules.hpp"
#include "util/conninfo.hpp"

namespace cp {

namespace {

std::string describe_pgbouncer_target(const std::string&, const std::vector<std::string>& specs,
                                      std::vector<std::string>& secrets) {
  std::string error;
  auto name = pg::conninfo_display_name(specs.front(), secrets, error);
  if (!name) throw UsageError("--pgbouncer: not a connection string: " + error);
  return *name;
}

double column(const pgb::Row& row, const char* name) {
  auto it = row.find(name);
  return it == row.end() ? 0 : std::atof(it->second.c_str());
}

// Per pool that had clients, the clients waiting for a server and those being served, and the
// oldest wait, through the window (SHOW POOLS samples).
std::vector<Series> pool_series(const pgb::Snapshot& snap) {
  if (snap.window_s <= 0) return {};
  std::map<std::pair<std::string, std::string>, std::array<Series, 3>> pools;
  for (const auto& sample : snap.pool_samples)
    for (const auto& row : sample.pools) {
      auto db = row.find("database"), user = row.find("user");
      if (db == row.end() || user == row.end() || db->second == "pgbouncer") continue;
      auto [it, fresh] = pools.try_emplace({db->second, user->second});
      auto& [waiting, active, maxwait] = it->second;
      if (fresh) {
        std::map<std::string, std::string> pool = {{"database", db->second}, {"user", user->second}};
        waiting = {"pgbouncer.clients", "clients", pool, {}};
        waiting.labels["state"] = "waiting";
        active = {"pgbouncer.clients", "clients", pool, {}};
        active.labels["state"] = "active";
        maxwait = {"pgbouncer.maxwait_ms", "ms", pool, {}};
      }
      waiting.points.emplace_back(sample.t_s, column(row, "cl_waiting"));
      active.points.emplace_back(sample.t_s, column(row, "cl_active"));
      maxwait.points.emplace_back(sample.t_s,
                                  column(row, "maxwait") * 1000 + column(row, "maxwait_us") / 1000);
    }
  std::vector<Series> out;
  for (auto& [_, series] : pools) {
    bool used = false;
    for (const auto& s : series)
      for (const auto& [t, v] : s.points) used = used || (s.name == "pgbouncer.clients" && v > 0);
    if (used)
      for (auto& s : series) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

ProbeKind pgbouncer_probe() {
  return {
      "pgbouncer",
      {{"--pgbouncer", "DSN", "a PgBouncer admin console (…/pgbouncer)"}},
      {Category::database},
      true,
      describe_pgbouncer_target,
      pgb::collect,
      judge_with_series<pgb::Snapshot, pgb::judge, pool_series>,
      pgb::rule_declarations(),
      {{"sample_interval_ms", 250}},
      {"stats_end", "pool_samples"},
  };
}

}  // namespace cp
