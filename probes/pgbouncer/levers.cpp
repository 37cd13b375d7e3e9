#include "probes/pgbouncer/levers.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace cp::pgb {

BouncerLoad bouncer_load(const Snapshot& s, const std::string& target) {
  BouncerLoad out;
  out.target = target;
  out.component = "pgbouncer";
  for (const char* key : {"pool_mode", "default_pool_size", "reserve_pool_size", "max_client_conn",
                          "max_db_connections", "log_connections", "log_disconnections"})
    if (auto it = s.config.find(key); it != s.config.end()) out.config[key] = it->second;
  double default_size = number(out.config, "default_pool_size");
  for (const auto& db : s.databases) {
    if (text(db, "name") == "pgbouncer") continue;
    double size = number(db, "pool_size");
    out.pool_size_total += size > 0 ? size : default_size;
    ++out.pools;
  }
  double samples = static_cast<double>(s.pool_samples.size());
  for (const auto& sample : s.pool_samples) {
    double cl_active = 0, cl_waiting = 0, sv_active = 0, sv_idle = 0;
    for (const auto& row : sample.pools) {
      if (text(row, "database") == "pgbouncer") continue;
      cl_active += number(row, "cl_active");
      cl_waiting += number(row, "cl_waiting");
      sv_active += number(row, "sv_active");
      sv_idle += number(row, "sv_idle");
      out.maxwait_s = std::max(out.maxwait_s, number(row, "maxwait") + number(row, "maxwait_us") / 1e6);
    }
    out.cl_active_peak = std::max(out.cl_active_peak, cl_active);
    out.cl_waiting_peak = std::max(out.cl_waiting_peak, cl_waiting);
    out.sv_active_peak = std::max(out.sv_active_peak, sv_active);
    out.sv_active_avg += sv_active / samples;
    out.sv_idle_avg += sv_idle / samples;
  }
  return out;
}

}  // namespace cp::pgb
