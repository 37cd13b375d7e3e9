// Issue #11 against a real PostgreSQL: what the server keeps verbatim never leaves chokepoint, and a
// session lost in the middle of the window is named as such.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "pg_load.hpp"

using namespace cp::test;

namespace {}  // namespace

TEST_CASE("a role password kept verbatim by pg_stat_statements is in no report and no evidence") {
  reset_statistics();
  psql_value(
      "DROP ROLE IF EXISTS cp_secret_role; CREATE ROLE cp_secret_role LOGIN PASSWORD 'Live-Secret-77'");
  for (int i = 0; i < 3; ++i) psql_value("ALTER ROLE cp_secret_role PASSWORD 'Live-Secret-77'");
  // The server really keeps it: the road this test closes.
  REQUIRE(psql_value("SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%Live-Secret-77%'") != "0");
  std::string evidence = temp_path("role.evidence.json");
  std::string out;
  for (const char* format : {"text", "json", "markdown"}) {
    auto r = run({chokepoint_bin(), "diagnose", "--postgres", service("PG_APP_DSN"), "--window", "0",
                  "--format", format, "--save-evidence", evidence});
    CHECK(r.exit_code == 0);
    out += r.out + r.err + slurp(evidence);
  }
  psql_value("DROP ROLE cp_secret_role");
  CHECK(slurp(evidence).find("ALTER ROLE") != std::string::npos);  // the statement is there, redacted
  CHECK(out.find("Live-Secret-77") == std::string::npos);
}

TEST_CASE("the session terminated mid-window: the message names the target and what was lost") {
  ReportRun r;
  std::thread diagnose([&] { r = diagnose_json({"--postgres", service("PG_APP_DSN"), "--window", "4"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  psql_value("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'chokepoint'");
  diagnose.join();
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  std::string msg = r.report["probes"][0]["message"];
  CHECK(msg.find("postgresql://app@127.0.0.1") != std::string::npos);
  CHECK(msg.find("connection was lost during the window") != std::string::npos);
  CHECK(msg.find("client encoding") == std::string::npos);
  CHECK(r.report["gate"]["status"] == "incomplete");
}

TEST_CASE("SIGINT during the window: the end-of-window EXPLAINs are not run, a note says so") {
  reset_statistics();
  std::string evidence = temp_path("interrupted-pg.evidence.json");
  Background diagnose({chokepoint_bin(), "diagnose", "--postgres", service("PG_APP_DSN"), "--window", "30",
                       "--save-evidence", evidence, "--format", "json"},
                      temp_path("interrupted-pg.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  for (int i = 0; i < 20; ++i)
    psql_value("SELECT count(*) FROM pg_class WHERE relname = 'cp_" + std::to_string(i) + "'");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(diagnose.pid() > 0);
  kill(diagnose.pid(), SIGINT);
  CHECK(diagnose.wait() == 128 + SIGINT);
  auto ev = nlohmann::json::parse(slurp(evidence));
  const auto& snap = ev["probes"][0]["snapshot"];
  CHECK(ev["run"]["interrupted"] == true);
  CHECK_FALSE(snap["statements"].empty());
  CHECK(snap["plans"].empty());
  bool noted = false;
  for (const auto& n : snap["notes"])
    noted = noted || n.get<std::string>().find("interrupted: 0 of the top") != std::string::npos;
  CHECK(noted);
}
