#include "probes/pgbouncer/probe.hpp"

#include "core/error.hpp"
#include "probes/pgbouncer/collector.hpp"
#include "probes/pgbouncer/rules.hpp"
#include "probes/postgres/conninfo.hpp"

namespace cp {

namespace {

std::string describe(const std::string&, const std::string& spec, std::vector<std::string>& secrets) {
  std::string error;
  auto info = pg::parse_conninfo(spec, error);
  if (!info) throw UsageError("--pgbouncer: not a connection string: " + error);
  if (auto pw = info->get("password"); !pw.empty()) secrets.push_back(pw);
  return info->display_name();
}

Judgement judge(const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
  return pgb::judge(snapshot.get<pgb::Snapshot>(), target, settings);
}

}  // namespace

ProbeKind pgbouncer_probe() {
  return {
      "pgbouncer",
      {{"--pgbouncer", "DSN", "a PgBouncer admin console (…/pgbouncer)"}},
      {Category::database},
      true,
      describe,
      pgb::collect,
      judge,
      {"db.pool_saturation", "code.long_transactions"},
      {{"sample_interval_ms", 250}},
  };
}

}  // namespace cp
