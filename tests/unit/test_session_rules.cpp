// Sessions, locks and pools: PostgreSQL activity rules and PgBouncer rules from recorded evidence.
#include <doctest/doctest.h>

#include "core/diagnose.hpp"
#include "harness.hpp"
#include "probes/pgbouncer/rules.hpp"
#include "probes/postgres/rules.hpp"

using namespace cp;
using json = nlohmann::ordered_json;

namespace {

nlohmann::json probe_snapshot(const std::string& fixture, const std::string& kind) {
  const auto doc = test::fixture(fixture);
  for (const auto& p : doc["probes"])
    if (p["kind"] == kind) return p["snapshot"];
  throw std::runtime_error(fixture + " has no " + kind + " probe");
}

Target target(const std::string& kind) {
  return {kind, "--" + kind, {""}, kind + "://app@127.0.0.1/x", {}};
}

std::vector<Finding> of_rule(const std::vector<Finding>& fs, const std::string& rule) {
  std::vector<Finding> out;
  for (const auto& f : fs)
    if (f.rule == rule) out.push_back(f);
  return out;
}

std::vector<Finding> pg_findings(const std::string& fixture, const Settings& s = {}) {
  return pg::judge(probe_snapshot(fixture, "postgres").get<pg::Snapshot>(), target("postgres"), s).findings;
}

std::vector<Finding> pgb_findings(const pgb::Snapshot& snap, const Settings& s = {}) {
  return pgb::judge(snap, target("pgbouncer"), s).findings;
}

pgb::Snapshot pgb_snapshot(const std::string& fixture) {
  return probe_snapshot(fixture, "pgbouncer").get<pgb::Snapshot>();
}

}  // namespace

TEST_CASE("db.lock_contention names the relation, the waiting and the blocking statements") {
  auto fs = pg_findings("postgres/locks.evidence.json");
  auto locks = of_rule(fs, "db.lock_contention");
  REQUIRE(locks.size() == 1);
  const auto& f = locks[0];
  CHECK(f.evidence["relation"] == "accounts");
  CHECK(f.evidence["waiting_query"].get<std::string>().find("UPDATE accounts") == 0);
  CHECK(f.evidence["blocking_query"].get<std::string>().find("pg_sleep") != std::string::npos);
  CHECK(f.evidence["avg_waiting_sessions"].get<double>() >= 2);
  CHECK(f.evidence["waiting_sessions"].get<int>() >= 4);
  CHECK(f.severity >= Severity::high);
  // The UPDATE's time is lock waiting: it is not also reported as a slow query.
  for (const auto& s : of_rule(fs, "db.slow_query"))
    CHECK(s.evidence["query"].get<std::string>().find("UPDATE accounts") == std::string::npos);
}

TEST_CASE("db.lock_contention: literals from pg_stat_activity never reach the evidence") {
  auto snap = probe_snapshot("postgres/locks.evidence.json", "postgres").get<pg::Snapshot>();
  for (const auto& sample : snap.activity)
    for (const auto& s : sample.sessions) CHECK(s.query.find("'") == std::string::npos);
}

TEST_CASE("db.lock_contention: quiet below its thresholds") {
  Settings s;
  s.rules["db.lock_contention"].thresholds["min_avg_waiting_sessions"] = 50;
  CHECK(of_rule(pg_findings("postgres/locks.evidence.json", s), "db.lock_contention").empty());
  CHECK(of_rule(pg_findings("postgres/n_plus_one.evidence.json"), "db.lock_contention").empty());
}

TEST_CASE("db.no_connection_pooling: measured connect time against the connection's transactions") {
  auto found = of_rule(pg_findings("postgres/no_pooling.evidence.json"), "db.no_connection_pooling");
  REQUIRE(found.size() == 1);
  const auto& f = found[0];
  CHECK(f.evidence["connect_ms"].get<double>() > 0);
  CHECK(f.evidence["connect_share"].get<double>() > 0.5);
  CHECK(f.evidence["sessions_per_s"].get<double>() > 10);
  CHECK(f.severity == Severity::high);
  REQUIRE(f.remediation.config);
  CHECK(f.remediation.config->find("pool_mode = transaction") != std::string::npos);
  CHECK(f.remediation.config->find("shop = host=") != std::string::npos);
  // The pooled workloads open no connections per transaction.
  CHECK(of_rule(pg_findings("pgbouncer/healthy_pooled.evidence.json"), "db.no_connection_pooling").empty());
  CHECK(of_rule(pg_findings("postgres/locks.evidence.json"), "db.no_connection_pooling").empty());
}

TEST_CASE("db.pool_saturation (PostgreSQL): connections near max_connections") {
  auto snap = probe_snapshot("postgres/no_pooling.evidence.json", "postgres").get<pg::Snapshot>();
  CHECK(of_rule(pg::judge(snap, target("postgres"), {}).findings, "db.pool_saturation").empty());
  snap.activity[0].total = 57;  // max_connections 60, 3 reserved for superusers
  auto found = of_rule(pg::judge(snap, target("postgres"), {}).findings, "db.pool_saturation");
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["usable_connections"] == 57);
  CHECK(found[0].severity == Severity::critical);
}

TEST_CASE("db.idle_in_transaction: long idle transactions, high when they block others") {
  auto snap = probe_snapshot("postgres/locks.evidence.json", "postgres").get<pg::Snapshot>();
  CHECK(of_rule(pg::judge(snap, target("postgres"), {}).findings, "db.idle_in_transaction").empty());
  auto& sample = snap.activity[0];
  pg::Session idle;
  idle.pid = 4242;
  idle.state = "idle in transaction";
  idle.state_age_s = 12;
  idle.xact_age_s = 13;
  idle.application_name = "checkout";
  idle.query = "UPDATE accounts SET balance_cents = balance_cents + $1 WHERE id = $2";
  sample.sessions.push_back(idle);
  auto found = of_rule(pg::judge(snap, target("postgres"), {}).findings, "db.idle_in_transaction");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::low);
  CHECK(found[0].evidence["application_name"] == "checkout");
  sample.sessions.front().blocked_by = {4242};
  found = of_rule(pg::judge(snap, target("postgres"), {}).findings, "db.idle_in_transaction");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::high);
  CHECK(found[0].evidence["blocks_others"] == true);
}

TEST_CASE("PgBouncer: a saturated pool is named, with the wait per transaction") {
  auto found =
      of_rule(pgb_findings(pgb_snapshot("pgbouncer/pool_saturation.evidence.json")), "db.pool_saturation");
  REQUIRE(found.size() == 1);
  const auto& f = found[0];
  CHECK(f.evidence["pool"] == "shop/app");
  CHECK(f.evidence["pool_size"] == 2);
  CHECK(f.evidence["avg_clients_waiting"].get<double>() > 5);
  CHECK(f.evidence["wait_per_xact_ms"].get<double>() > f.evidence["avg_xact_ms"].get<double>());
  CHECK(f.severity >= Severity::high);
  CHECK(f.component == "pgbouncer:shop");
}

TEST_CASE("PgBouncer: fast statements in long transactions are the application's doing (code)") {
  auto fs = pgb_findings(pgb_snapshot("pgbouncer/held_transactions.evidence.json"));
  auto code = of_rule(fs, "code.long_transactions");
  REQUIRE(code.size() == 1);
  CHECK(code[0].category == Category::code);
  CHECK(code[0].evidence["xact_to_query_ratio"].get<double>() >= 5);
  auto sat = of_rule(fs, "db.pool_saturation");
  REQUIRE(sat.size() == 1);
  CHECK(sat[0].severity == Severity::low);
  // The whole run says code, not database.
  auto report =
      judge_evidence(evidence_from_json(test::fixture("pgbouncer/held_transactions.evidence.json")), {});
  REQUIRE(report.verdict.category);
  CHECK(*report.verdict.category == Category::code);
}

TEST_CASE("PgBouncer: a healthy pooled workload is quiet") {
  CHECK(pgb_findings(pgb_snapshot("pgbouncer/healthy_pooled.evidence.json")).empty());
  auto report =
      judge_evidence(evidence_from_json(test::fixture("pgbouncer/healthy_pooled.evidence.json")), {});
  for (const auto& f : report.findings) CHECK(f.severity < Severity::high);
}

TEST_CASE("PgBouncer: columns are read by name, whatever the version adds or drops") {
  auto snap = pgb_snapshot("pgbouncer/pool_saturation.evidence.json");
  for (auto& sample : snap.pool_samples)
    for (auto& row : sample.pools) {
      row.erase("maxwait_us");
      row.erase("cl_active_cancel_req");
      row["sv_idle_xact"] = "0";  // a column a newer PgBouncer has
    }
  auto found = of_rule(pgb_findings(snap), "db.pool_saturation");
  REQUIRE(found.size() == 1);
  CHECK(found[0].evidence["pool"] == "shop/app");
}
