// What the PgBouncer collector read from the admin console: rows by column name (columns differ
// between PgBouncer versions), values as text.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp::pgb {

using Row = std::map<std::string, std::string>;

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
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, version, window_s, stats_start, stats_end,
                                                pool_samples, databases, config)

}  // namespace cp::pgb
