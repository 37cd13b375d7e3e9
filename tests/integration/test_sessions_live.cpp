// Waiting, not slow queries: locks, connection set-up and pools, against a real PostgreSQL and a
// real PgBouncer (pool "shop" has 2 server connections, "shop_pooled" 20).
#include <doctest/doctest.h>

#include "pg_load.hpp"

using namespace cp::test;

TEST_CASE("hot-row updates in slow transactions: lock contention on accounts") {
  auto r = diagnose_under({"hot_rows", service("PG_APP_DSN"), {"-c", "8", "-M", "prepared"}},
                          {"--postgres", service("PG_APP_DSN")});
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  auto locks = findings_of(r.report, "db.lock_contention");
  REQUIRE(locks.size() == 1);
  CHECK(locks[0]["evidence"]["relation"] == "accounts");
  CHECK(locks[0]["evidence"]["blocking_query"].get<std::string>().find("pg_sleep") != std::string::npos);
  CHECK(locks[0]["evidence"]["waiting_query"].get<std::string>().find("UPDATE accounts") == 0);
  CHECK(r.report["verdict"]["headline"].get<std::string>().find("accounts") != std::string::npos);
}

TEST_CASE("pgbench -C: no connection pooling, with the measured connect time") {
  auto r = diagnose_under({"healthy", service("PG_APP_DSN"), {"-c", "4", "-C"}},
                          {"--postgres", service("PG_APP_DSN")});
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  auto f = findings_of(r.report, "db.no_connection_pooling");
  REQUIRE(f.size() == 1);
  CHECK(f[0]["evidence"]["connect_ms"].get<double>() > 0);
  CHECK(f[0]["evidence"]["connect_share"].get<double>() > 0.3);
  CHECK(f[0]["remediation"]["config"].get<std::string>().find("pool_mode = transaction") !=
        std::string::npos);
}

TEST_CASE("16 clients on a PgBouncer pool of 2: pool saturation naming the pool") {
  auto r = diagnose_under({"pooled_report", service("PGB_SHOP_DSN"), {"-c", "16"}},
                          {"--pgbouncer", service("PGB_ADMIN_DSN"), "--postgres", service("PG_APP_DSN")});
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  auto f = findings_of(r.report, "db.pool_saturation");
  REQUIRE(f.size() == 1);
  CHECK(f[0]["evidence"]["pool"] == "shop/app");
  CHECK(f[0]["evidence"]["pool_size"] == 2);
  CHECK(r.report["verdict"]["headline"].get<std::string>().find("shop/app") != std::string::npos);
}

TEST_CASE("fast statements in transactions the application holds open: verdict code") {
  auto r = diagnose_under({"held_transactions", service("PGB_SHOP_DSN"), {"-c", "16"}},
                          {"--pgbouncer", service("PGB_ADMIN_DSN")});
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "code");
  REQUIRE(findings_of(r.report, "code.long_transactions").size() == 1);
}

TEST_CASE("a healthy pooled workload stays quiet") {
  auto r = diagnose_under(
      {"healthy", service("PGB_POOLED_DSN"), {"-c", "4"}},
      {"--pgbouncer", service("PGB_ADMIN_DSN"), "--postgres", service("PG_APP_DSN"), "--fail-on", "high"});
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "none");
  CHECK(nothing_high(r.report));
}

TEST_CASE(
    "PgBouncer without admin rights or unreachable: exit 3 naming the setting, PostgreSQL still judged") {
  auto r = diagnose_under({"hot_rows", service("PG_APP_DSN"), {"-c", "8", "-M", "prepared"}},
                          {"--pgbouncer", service("PGB_NOADMIN_DSN"), "--postgres", service("PG_APP_DSN")});
  CHECK(r.exit_code == 3);
  bool pgbouncer_error = false;
  for (const auto& p : r.report["probes"])
    if (p["name"] == "pgbouncer") {
      pgbouncer_error = p["status"] == "error";
      CHECK(p["message"].get<std::string>().find("admin_users") != std::string::npos);
    }
  CHECK(pgbouncer_error);
  CHECK(findings_of(r.report, "db.lock_contention").size() == 1);

  auto down = diagnose_json({"--pgbouncer", "postgresql://app@127.0.0.1:1/pgbouncer", "--window", "0"});
  CHECK(down.exit_code == 3);
  CHECK(down.report["probes"][0]["message"].get<std::string>().find("listen_port") != std::string::npos);
}
