// Against a real PostgreSQL 15 with pg_stat_statements and HypoPG (tests/tools/services.sh), under
// real pgbench load: each bottleneck is created, and the diagnosis is checked.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "pg_load.hpp"

using namespace cp::test;
using nlohmann::ordered_json;

namespace {

ReportRun diagnose_under_load(const std::string& workload, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--postgres", service("PG_APP_DSN")};
  args.insert(args.end(), extra.begin(), extra.end());
  return diagnose_under({workload, service("PG_APP_DSN"), {"-c", "4", "-M", "prepared"}}, args);
}

}  // namespace

TEST_CASE("missing index: 1M-row orders filtered by an unindexed customer_id") {
  auto r = diagnose_under_load("missing_index");
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  auto idx = findings_of(r.report, "db.missing_index");
  REQUIRE(idx.size() == 1);
  CHECK(idx[0]["evidence"]["table"] == "orders");
  CHECK(idx[0]["evidence"]["columns"] == ordered_json::array({"customer_id"}));
  CHECK(idx[0]["evidence"]["cost_source"] == "hypopg");
  CHECK(idx[0]["remediation"]["sql"] == "CREATE INDEX CONCURRENTLY ON public.orders (customer_id);");
  CHECK(r.report["verdict"]["headline"].get<std::string>().find("orders (customer_id)") != std::string::npos);
  // The primary-key lookup on customers in the same workload gets no index suggestion.
  for (const auto& f : r.report["findings"]) CHECK(f["evidence"].value("table", "") != "customers");
}

TEST_CASE("N+1: a list query then 20 single-row lookups per transaction") {
  auto r = diagnose_under_load("n_plus_one");
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  auto n1 = findings_of(r.report, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0]["evidence"]["query"].get<std::string>().find("FROM products WHERE id = $1") !=
        std::string::npos);
  CHECK(n1[0]["evidence"]["parent_query"].get<std::string>().find("WHERE category_id = $1") !=
        std::string::npos);
  CHECK(n1[0]["evidence"]["calls_per_parent"].get<double>() == doctest::Approx(20).epsilon(0.1));
  // pg_stat_database lags up to a second behind pg_stat_statements (backends flush their
  // counters at most once a second), so over a 5 s window calls per transaction is approximate.
  CHECK(n1[0]["evidence"]["calls_per_xact"].get<double>() > 14);
  CHECK(n1[0]["evidence"]["calls_per_xact"].get<double>() < 30);
  CHECK(findings_of(r.report, "db.missing_index").empty());
}

TEST_CASE("healthy indexed workload: verdict none, nothing high or critical, exit 0 even with a gate") {
  auto r = diagnose_under_load("healthy", {"--fail-on", "high"});
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "none");
  CHECK(nothing_high(r.report));
  CHECK(findings_of(r.report, "db.missing_index").empty());
  CHECK(findings_of(r.report, "db.n_plus_one").empty());
}

TEST_CASE("wrong password: one clear line within the connect timeout, exit 3, no password printed") {
  std::string dsn = service("PG_APP_DSN");
  auto at = dsn.find(service("PG_APP_PASSWORD"));
  REQUIRE(at != std::string::npos);
  dsn.replace(at, service("PG_APP_PASSWORD").size(), "Wrong-Pass-123");
  auto start = std::chrono::steady_clock::now();
  auto r = diagnose_json({"--postgres", dsn, "--window", "3"});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  CHECK(took < 5.5);  // connect_timeout is 5 s; failing auth must not wait for the window
  std::string msg = r.report["probes"][0]["message"];
  CHECK(msg.find("password authentication failed") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(r.stdout_text.find("Wrong-Pass-123") == std::string::npos);
  CHECK(r.stderr_text.find("Wrong-Pass-123") == std::string::npos);
}

TEST_CASE("pg_stat_statements missing: actionable error, exit 3") {
  auto r = diagnose_json({"--postgres", service("PG_PLAIN_DSN"), "--window", "0"});
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  std::string msg = r.report["probes"][0]["message"];
  CHECK(msg.find("shared_preload_libraries") != std::string::npos);
  CHECK(msg.find("CREATE EXTENSION pg_stat_statements") != std::string::npos);
}

TEST_CASE("light: one read-only connection, EXPLAIN never runs the query") {
  reset_statistics();
  // A statement chokepoint will EXPLAIN: the seq scan on orders, run twice by "the application".
  psql_value(
      "SET ROLE app; SELECT count(*) FROM orders WHERE customer_id = 42; "
      "SELECT count(*) FROM orders WHERE customer_id = 43;");
  std::string scans_before = psql_value("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'orders'");
  std::string evidence = temp_path("light.evidence.json");
  ReportRun r;
  std::thread diagnose([&] {
    r = diagnose_json({"--postgres", service("PG_APP_DSN"), "--window", "3", "--save-evidence", evidence});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::string sessions = psql_value(
      "SELECT count(*) || ' ' || bool_and(backend_type = 'client backend') FROM pg_stat_activity "
      "WHERE application_name = 'chokepoint'");
  diagnose.join();
  CHECK(sessions == "1 true");
  CHECK(r.exit_code == 0);
  // EXPLAIN without ANALYZE plans the query; it never scans the table.
  psql_value("SELECT pg_stat_clear_snapshot()");
  CHECK(psql_value("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'orders'") == scans_before);
  // And chokepoint's own statements are not in the diagnosis.
  for (const auto& f : r.report["findings"])
    CHECK(f["evidence"].value("query", "").find("chokepoint") == std::string::npos);
}
