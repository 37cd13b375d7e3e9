// What the PgBouncer collector read from the admin console: rows by column name (columns differ
// between PgBouncer versions), values as text.
#pragma once

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp::pgb {

using Row = std::map<std::string, std::string>;

// A console column as a number (0 when absent) or as text ("" when absent).
inline double number(const Row& row, const std::string& column) {
  auto it = row.find(column);
  return it == row.end() ? 0 : std::atof(it->second.c_str());
}
inline std::string text(const Row& row, const std::string& column) {
  auto it = row.find(column);
  return it == row.end() ? "" : it->second;
}

struct PoolSample {
  double t_s = 0;
  std::vector<Row> pools;  // SHOW POOLS
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PoolSample, t_s, pools)

struct Snapshot {
  std::string version;  // SHOW VERSION
  double window_s = 0;
  std::vector<Row> stats_start;  // SHOW STATS at the window's start (empty when window_s == 0)
  std::vector<Row> stats_end;
  std::vector<PoolSample> pool_samples;       // SHOW POOLS through the window
  std::vector<Row> databases;                 // SHOW DATABASES
  std::map<std::string, std::string> config;  // SHOW CONFIG: key -> value
  // chokepoint's own clients of each pool ("database/user" -> clients) at the window's end, from SHOW
  // CLIENTS (application_name chokepoint: a --postgres probe through this PgBouncer, another run);
  // left out of the pool's active clients. The admin console's own connection is in the "pgbouncer"
  // pool, which is never judged.
  std::map<std::string, double> own_clients;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, version, window_s, stats_start, stats_end,
                                                pool_samples, databases, config, own_clients)

}  // namespace cp::pgb
