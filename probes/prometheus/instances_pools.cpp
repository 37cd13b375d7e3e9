// PgBouncer pools (pgbouncer_exporter) and blackbox HTTP probes, as the PgBouncer and HTTP probes'
// snapshots.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "probes/prometheus/instances.hpp"
#include "util/url.hpp"

namespace cp::prom {

namespace {

std::string label_of(const Sample& s, const char* name) {
  auto it = s.labels.find(name);
  return it == s.labels.end() ? "" : it->second;
}

// The sample of query `id` for the pool (database, user) of the instance, 0 when none.
double pool_value(const Results& r, const std::string& id, const std::string& key, const std::string& database,
                  const std::string& user) {
  for (const Sample* s : r.samples(id, key))
    if (label_of(*s, "database") == database && label_of(*s, "user") == user) return s->value;
  return 0;
}

std::string number_text(double v) {
  return fmt::format("{}", v);
}

// SHOW STATS totals over the window (microseconds, as PgBouncer counts) from the exporter's counters;
// zero rows at the start so the rules take deltas.
void pool_stats(const Results& r, const std::string& key, pgb::Snapshot& s) {
  std::map<std::string, pgb::Row> end;
  auto add = [&](const char* id, const char* column, double scale) {
    for (const Sample* sample : r.samples(id, key)) {
      pgb::Row& row = end[label_of(*sample, "database")];
      row["database"] = label_of(*sample, "database");
      row[column] = number_text(sample->value * scale);
    }
  };
  add("pgbouncer.xacts", "total_xact_count", 1);
  add("pgbouncer.queries", "total_query_count", 1);
  add("pgbouncer.xact_seconds", "total_xact_time", 1e6);
  add("pgbouncer.query_seconds", "total_query_time", 1e6);
  add("pgbouncer.wait_seconds", "total_wait_time", 1e6);
  for (auto& [database, row] : end) {
    s.stats_start.push_back({{"database", database}});
    s.stats_end.push_back(std::move(row));
  }
}

}  // namespace

pgb::Snapshot pgbouncer_snapshot(const Results& r, const std::string& key, double range_s) {
  pgb::Snapshot s;
  s.window_s = range_s;
  std::map<std::string, std::string> modes;
  for (const Sample* db : r.samples("pgbouncer.pool_size", key)) {
    s.databases.push_back({{"name", label_of(*db, "name")}, {"pool_size", number_text(db->value)}});
    modes[label_of(*db, "name")] = label_of(*db, "pool_mode");
  }
  // One sample of SHOW POOLS: each pool's averages over the window (the exporter's gauges) and its
  // longest wait.
  pgb::PoolSample pools;
  for (const Sample* p : r.samples("pgbouncer.client_active", key)) {
    std::string database = label_of(*p, "database"), user = label_of(*p, "user");
    auto v = [&](const char* id) { return pool_value(r, id, key, database, user); };
    double maxwait = v("pgbouncer.maxwait");
    pools.pools.push_back({{"database", database},
                           {"user", user},
                           {"pool_mode", modes[database]},
                           {"cl_active", number_text(p->value)},
                           {"cl_waiting", number_text(v("pgbouncer.client_waiting"))},
                           {"sv_active", number_text(v("pgbouncer.server_active"))},
                           {"maxwait", number_text(std::floor(maxwait))},
                           {"maxwait_us", number_text(std::round((maxwait - std::floor(maxwait)) * 1e6))}});
  }
  s.pool_samples.push_back(std::move(pools));
  pool_stats(r, key, s);
  return s;
}

http::Snapshot http_snapshot(const Results& r, const std::string& key, const std::string& url, double range_s) {
  http::Snapshot s;
  s.url = url;
  s.endpoint = normalize_url(url);
  s.host = url_host(url);
  s.window_s = range_s;
  double probes = r.value("http.probes", key).value_or(1);
  int n = std::clamp(static_cast<int>(std::lround(probes)), 1, 300);
  s.rate_per_s = range_s > 0 ? n / range_s : 0;
  int failed = static_cast<int>(std::lround(n * (1 - std::clamp(r.value("http.success", key).value_or(1), 0.0, 1.0))));
  int status = static_cast<int>(r.value("http.status", key).value_or(0));
  // The probes as calls on fresh connections: the slowest tenth at each phase's 95th percentile, the
  // others at its average (so the HTTP rules' p50 and p95 are the probe's average and p95).
  int slow = std::max(1, n / 10);
  for (int i = 0; i < n; ++i) {
    const char* id = i < slow ? "http.duration_p95" : "http.duration";
    auto ms = [&](const char* phase) { return r.value(id, key, "phase", phase).value_or(0) * 1000; };
    http::Sample x;
    x.t_s = range_s * i / n;
    x.dns_ms = ms("resolve");
    x.tcp_ms = ms("connect");
    x.tls_ms = ms("tls");
    x.ttfb_ms = x.dns_ms + x.tcp_ms + x.tls_ms + ms("processing");
    x.total_ms = x.ttfb_ms + ms("transfer");
    x.status = status > 0 ? status : 200;
    if (n - i <= failed) {  // the failed probes: an error status, or no answer at all
      if (status < 400) {
        x.status = 0;
        x.error = "connection";
        x.error_detail = "probe_success 0";
      }
    }
    s.samples.push_back(std::move(x));
  }
  return s;
}

}  // namespace cp::prom
