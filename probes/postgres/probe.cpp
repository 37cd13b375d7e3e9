#include "probes/postgres/probe.hpp"

#include "core/error.hpp"
#include "probes/postgres/collector.hpp"
#include "probes/postgres/conninfo.hpp"
#include "probes/postgres/rules.hpp"

namespace cp {

namespace {

std::string describe(const std::string&, const std::string& spec, std::vector<std::string>& secrets) {
  std::string error;
  auto info = pg::parse_conninfo(spec, error);
  if (!info) throw UsageError("--postgres: not a PostgreSQL connection string: " + error);
  for (const char* key : {"password", "sslpassword"})
    if (auto pw = info->get(key); !pw.empty()) secrets.push_back(pw);
  return info->display_name();
}

Judgement judge(const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
  return pg::judge(snapshot.get<pg::Snapshot>(), target, settings);
}

}  // namespace

ProbeKind postgres_probe() {
  return {
      "postgres",
      {{"--postgres", "DSN", "a PostgreSQL server (libpq URI or key=value string)"}},
      {Category::database},
      true,
      describe,
      pg::collect,
      judge,
      {"db.missing_index", "db.slow_query", "db.n_plus_one", "db.low_cache_hit", "db.lock_contention",
       "db.pool_saturation", "db.no_connection_pooling", "db.idle_in_transaction"},
      {{"explain_top", 20}, {"sample_interval_ms", 200}, {"connect_samples", 3}},
  };
}

}  // namespace cp
