// Shared by the live PostgreSQL / PgBouncer tests: reset statistics, run pgbench for the whole
// window, diagnose, check the report against the schema.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "harness.hpp"

namespace cp::test {

inline std::string psql_value(const std::string& sql) {
  auto r = run({"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", service("PG_SUPER_DSN"), "-c", sql});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r.out;
}

inline void reset_statistics() {
  psql_value("SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();");
}

struct Load {
  std::string workload;            // tests/workloads/<workload>.sql
  std::string dsn;                 // where pgbench connects
  std::vector<std::string> flags;  // extra pgbench flags (-c 8, -C, -M prepared …)
};

// Runs the load for the whole window and diagnoses with `args` (targets and options).
inline ReportRun diagnose_under(const Load& load, std::vector<std::string> args) {
  reset_statistics();
  std::vector<std::string> cmd = {"pgbench", "-n", "-j", "2", "-T", std::to_string(kWindowS + 3)};
  cmd.insert(cmd.end(), load.flags.begin(), load.flags.end());
  cmd.insert(cmd.end(), {"-f", source_dir() + "/tests/workloads/" + load.workload + ".sql", load.dsn});
  std::string log = temp_path(load.workload + ".pgbench.log");
  Background pgbench(cmd, log);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  args.insert(args.end(), {"--window", std::to_string(kWindowS)});
  ReportRun r = diagnose_json(args);
  CHECK_MESSAGE(pgbench.wait() == 0, "pgbench failed, see " << log);
  CHECK_MESSAGE(r.schema_errors.empty(), (r.schema_errors.empty() ? "" : r.schema_errors.front()));
  return r;
}

inline bool nothing_high(const nlohmann::ordered_json& report) {
  for (const auto& f : report["findings"])
    if (f["severity"] == "high" || f["severity"] == "critical") return false;
  return true;
}

}  // namespace cp::test
