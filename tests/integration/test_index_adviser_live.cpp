// The index adviser against a real PostgreSQL 15 with HypoPG: each class of index (sort-driven,
// equality then sort, multi-column, join, partitioned, UPDATE) on tables of 200k rows, so the planner
// really prefers the index; then every suggested statement is executed on the test server and the
// statement's plan must use the index it created. Negative cases stay quiet.
// The tables (schema "adviser", owned by the application role) are built once for all the tests of
// this file; each test drops the indexes it created.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "pg_load.hpp"

using namespace cp::test;
using nlohmann::ordered_json;

namespace {

RunResult app_psql(const std::vector<std::string>& extra, const std::string& input = "") {
  std::vector<std::string> cmd = {
      "psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", service("PG_APP_DSN")};
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  return run(cmd, input);
}

constexpr const char* kSchema = R"SQL(
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS adviser CASCADE;
CREATE SCHEMA adviser;
SET search_path = adviser;
CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, region text NOT NULL);
INSERT INTO accounts SELECT i, 'user' || i || '@example.com', 'r' || i % 10 FROM generate_series(1, 2000) i;
CREATE TABLE events (
  id bigint PRIMARY KEY, account_id int NOT NULL, tenant_id int NOT NULL, status int NOT NULL,
  ext_ref text NOT NULL, created_at timestamptz NOT NULL, payload text NOT NULL);
INSERT INTO events
SELECT i, 1 + (hashint4(i) & 2147483647) % 2000, i % 100, (i / 100) % 20, 'ref-' || i,
       timestamptz '2024-01-01' + make_interval(secs => (hashint4(i + 7) & 2147483647) % 10000000),
       repeat('x', 40)
FROM generate_series(1, 200000) i;
CREATE TABLE measurements (id bigint NOT NULL, device_id int NOT NULL, taken_at timestamptz NOT NULL,
                           value float8 NOT NULL) PARTITION BY RANGE (taken_at);
CREATE TABLE measurements_2024_01 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE measurements_2024_02 PARTITION OF measurements FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE measurements_2024_03 PARTITION OF measurements FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
CREATE TABLE measurements_2024_04 PARTITION OF measurements FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');
INSERT INTO measurements
SELECT i, 1 + (hashint4(i) & 2147483647) % 5000, timestamptz '2024-01-01' + make_interval(secs => i * 50), i
FROM generate_series(1, 200000) i;
CREATE TABLE indexed (id bigint PRIMARY KEY, code int NOT NULL);
INSERT INTO indexed SELECT i, i % 50000 FROM generate_series(1, 200000) i;
CREATE INDEX indexed_code_idx ON indexed (code);
CREATE TABLE tiny (id int PRIMARY KEY, code int NOT NULL);
INSERT INTO tiny SELECT i, i % 500 FROM generate_series(1, 5000) i;
VACUUM ANALYZE accounts, events, measurements, indexed, tiny;
CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id int NOT NULL, created_at timestamptz NOT NULL,
                     memo text NOT NULL);
INSERT INTO ledger (account_id, created_at, memo) SELECT i % 100, now(), 'm' || i FROM generate_series(1, 1000) i;
CREATE TABLE ready ();
)SQL";

// A foreign table of 200k rows (file_fdw reading a program's output): a Foreign Scan, never advised.
constexpr const char* kForeign = R"SQL(
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER IF NOT EXISTS adviser_files FOREIGN DATA WRAPPER file_fdw;
DROP FOREIGN TABLE IF EXISTS adviser.remote_numbers;
CREATE FOREIGN TABLE adviser.remote_numbers (n int) SERVER adviser_files OPTIONS (program 'seq 1 200000');
GRANT SELECT ON adviser.remote_numbers TO app;
)SQL";

// Built once per services run: the first test of this file pays for it.
void ensure_tables() {
  if (psql_value("SELECT to_regclass('adviser.ready') IS NOT NULL") == "t") return;
  auto r = app_psql({"-f", "-"}, kSchema);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  if (psql_value("SELECT count(*) FROM pg_available_extensions WHERE name = 'file_fdw'") == "1")
    psql_value(kForeign);
}

std::set<std::string> adviser_indexes() {
  auto out = psql_value(
      "SELECT string_agg(c.relname, ' ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'adviser' AND c.relkind IN ('i', 'I')");
  std::set<std::string> names;
  std::string cur;
  for (char ch : out + " ") {
    if (ch == ' ') {
      if (!cur.empty()) names.insert(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return names;
}

// Statements run by "the application", then a diagnosis over the cumulative statistics.
ReportRun diagnose_workload(const std::vector<std::string>& statements, int repeat = 3) {
  ensure_tables();
  reset_statistics();
  // Qualified names: chokepoint plans the statements with its own search_path.
  std::string sql;
  for (int i = 0; i < repeat; ++i)
    for (const auto& s : statements) sql += s + ";\n";
  auto r = app_psql({"-o", "/dev/null", "-f", "-"}, sql);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto report = diagnose_json({"--postgres", service("PG_APP_DSN"), "--window", "0"});
  CHECK(report.exit_code == 0);
  CHECK_MESSAGE(report.schema_errors.empty(),
                (report.schema_errors.empty() ? "" : report.schema_errors.front()));
  return report;
}

std::vector<ordered_json> advice_on(const ordered_json& report, const std::string& table) {
  std::vector<ordered_json> out;
  for (const auto& f : findings_of(report, "db.missing_index"))
    if (f["evidence"]["table"] == table) out.push_back(f);
  return out;
}

std::string plan_text(const std::string& query) {
  auto r = app_psql({"-c", "SET search_path = adviser, public; EXPLAIN (COSTS OFF) " + query});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out;
}

// Runs the finding's SQL as the application would (psql, one statement at a time: CONCURRENTLY
// refuses a transaction block), then checks `query`'s plan uses an index the SQL created. The
// indexes are dropped afterwards so the next test starts from the same tables.
void apply_and_check_plan(const ordered_json& finding, const std::string& query) {
  auto before = adviser_indexes();
  std::string sql = finding["remediation"]["sql"];
  auto r = app_psql({"-f", "-"}, sql);
  CHECK_MESSAGE(r.exit_code == 0, sql << "\n" << r.err);
  auto after = adviser_indexes();
  std::vector<std::string> created;
  for (const auto& n : after)
    if (!before.count(n)) created.push_back(n);
  CHECK_MESSAGE(!created.empty(), sql);
  std::string plan = plan_text(query);
  bool uses = false;
  for (const auto& n : created) uses = uses || plan.find(n) != std::string::npos;
  CHECK_MESSAGE(uses, "plan of " << query << " does not use the new index:\n" << plan);
  CHECK(
      psql_value("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace "
                 "n ON n.oid = c.relnamespace WHERE n.nspname = 'adviser' AND NOT i.indisvalid") == "0");
  // Partitioned parents' indexes first: their partitions' indexes go with them.
  for (bool parents : {true, false})
    for (const auto& n : created)
      if ((psql_value("SELECT relkind FROM pg_class WHERE oid = to_regclass('adviser." + n + "')") == "I") ==
          parents)
        psql_value("DROP INDEX IF EXISTS adviser." + n);
}

}  // namespace

TEST_CASE("index adviser: ORDER BY … DESC LIMIT with no filter, ordinal and alias resolved to the column") {
  const std::string plain = "SELECT id, created_at FROM adviser.events ORDER BY created_at DESC LIMIT 10";
  // Three statements (pg_stat_statements keeps one entry per query tree: the select lists differ).
  auto r = diagnose_workload(
      {plain, "SELECT id, created_at AS ts, status FROM adviser.events ORDER BY 2 DESC LIMIT 10",
       "SELECT id, payload, created_at AS ts FROM adviser.events ORDER BY ts DESC LIMIT 10"});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  const auto& e = found[0]["evidence"];
  CHECK(e["columns"] == ordered_json::array({"created_at"}));
  CHECK(e["index_source"] == "sort");
  CHECK(e["cost_source"] == "hypopg");
  // Per-statement evidence: the three statements, each with its own costs and calls.
  REQUIRE(e["statements"].size() == 3);
  std::set<int64_t> ids;
  for (const auto& st : e["statements"]) {
    ids.insert(st["queryid"].get<int64_t>());
    CHECK(st["calls"] == 3);
    CHECK(st["cost_after"].get<double>() <= st["cost_before"].get<double>() * 0.5);
    CHECK(st["total_ms"].get<double>() > 0);
  }
  CHECK(ids.size() == 3);
  CHECK(found[0]["remediation"]["sql"] == "CREATE INDEX CONCURRENTLY ON adviser.events (created_at);");
  apply_and_check_plan(found[0], plain);
}

TEST_CASE("index adviser: equality then sort column (WHERE a = $1 ORDER BY b DESC LIMIT n)") {
  const std::string q = "SELECT * FROM adviser.events WHERE account_id = 7 ORDER BY created_at DESC LIMIT 20";
  auto r = diagnose_workload({q});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  CHECK(found[0]["evidence"]["columns"] == ordered_json::array({"account_id", "created_at"}));
  CHECK(found[0]["evidence"]["index_source"] == "filter+sort");
  apply_and_check_plan(found[0], q);
}

TEST_CASE("index adviser: two equality columns selective only together get one two-column index") {
  const std::string q = "SELECT id, payload FROM adviser.events WHERE tenant_id = 42 AND status = 3";
  auto r = diagnose_workload({q});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  auto cols = found[0]["evidence"]["columns"];
  CHECK(cols.size() == 2);
  CHECK(std::set<std::string>{cols[0], cols[1]} == std::set<std::string>{"tenant_id", "status"});
  apply_and_check_plan(found[0], q);
}

TEST_CASE("index adviser: an index on one column that still leaves a filter gets the two-column index") {
  auto r0 = app_psql({"-c", "CREATE INDEX IF NOT EXISTS events_tenant_idx ON adviser.events (tenant_id)"});
  REQUIRE_MESSAGE(r0.exit_code == 0, r0.err);
  const std::string q = "SELECT id, payload FROM adviser.events WHERE tenant_id = 42 AND status = 3";
  auto r = diagnose_workload({q});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  CHECK(found[0]["evidence"]["columns"] == ordered_json::array({"tenant_id", "status"}));
  CHECK(found[0]["evidence"]["plan_node"] != "Seq Scan");
  apply_and_check_plan(found[0], q);
  psql_value("DROP INDEX adviser.events_tenant_idx");
}

TEST_CASE("index adviser: the join column of a big table driven by a selective small one") {
  const std::string q =
      "SELECT e.id, e.created_at FROM adviser.events e JOIN adviser.accounts a ON a.id = e.account_id "
      "WHERE a.email = 'user7@example.com'";
  auto r = diagnose_workload({q});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  CHECK(found[0]["evidence"]["columns"] == ordered_json::array({"account_id"}));
  CHECK(found[0]["evidence"]["index_source"] == "join");
  apply_and_check_plan(found[0], q);
}

TEST_CASE("index adviser: a correlated subquery's column compared with the outer row") {
  const std::string q =
      "SELECT a.id, (SELECT count(*) FROM adviser.events e WHERE e.account_id = a.id) AS n "
      "FROM adviser.accounts a WHERE a.id < 4";
  auto r = diagnose_workload({q});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  CHECK(found[0]["evidence"]["columns"] == ordered_json::array({"account_id"}));
  apply_and_check_plan(found[0], q);
}

TEST_CASE("index adviser: unqualified names the application resolves through its own search_path") {
  // pg_stat_statements does not record the search_path: chokepoint retries on the database's schemas.
  const std::string q = "SELECT id FROM events WHERE ext_ref = 'ref-77'";
  auto r = diagnose_workload({"SET search_path = adviser, public", q});
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  CHECK(found[0]["evidence"]["schema"] == "adviser");
  CHECK(found[0]["evidence"]["columns"] == ordered_json::array({"ext_ref"}));
  apply_and_check_plan(found[0], q);
}

TEST_CASE("index adviser: a partitioned table gets ON ONLY + CONCURRENTLY per partition + ATTACH") {
  const std::string by_device = "SELECT * FROM adviser.measurements WHERE device_id = 17";
  const std::string by_key =
      "SELECT * FROM adviser.measurements WHERE taken_at >= '2024-02-03' AND taken_at < '2024-02-04'";
  auto r = diagnose_workload({by_device, by_key});
  auto found = advice_on(r.report, "measurements");
  REQUIRE(found.size() == 2);
  for (const auto& f : found) {
    CHECK(f["evidence"]["partitioned"] == true);
    CHECK(f["evidence"]["partitions"] == 4);
    std::string sql = f["remediation"]["sql"];
    CHECK(sql.find("ON ONLY adviser.measurements") != std::string::npos);
    CHECK(sql.find("CREATE INDEX CONCURRENTLY IF NOT EXISTS") != std::string::npos);
    CHECK(sql.find("ATTACH PARTITION adviser.measurements_2024_04_") != std::string::npos);
    CHECK(f["remediation"]["summary"].get<std::string>().find("SHARE lock") != std::string::npos);
    bool device = f["evidence"]["columns"] == ordered_json::array({"device_id"});
    CHECK((device || f["evidence"]["columns"] == ordered_json::array({"taken_at"})));
    apply_and_check_plan(f, device ? by_device : by_key);
  }
}

TEST_CASE("index adviser: an UPDATE by an unindexed column, with the table's write rate beside the gain") {
  const std::string q = "UPDATE adviser.events SET payload = payload WHERE ext_ref = 'ref-4242'";
  auto r = diagnose_workload({q}, 4);
  auto found = advice_on(r.report, "events");
  REQUIRE(found.size() == 1);
  const auto& e = found[0]["evidence"];
  CHECK(e["columns"] == ordered_json::array({"ext_ref"}));
  CHECK(e["statements"][0]["kind"] == "update");
  CHECK(e["table_writes"].get<double>() >= 4);  // the four updates, measured in pg_stat_user_tables
  CHECK(found[0]["detail"].get<std::string>().find("Write cost") != std::string::npos);
  apply_and_check_plan(found[0], q);
}

TEST_CASE("index adviser stays quiet: already indexed, small table, materialized CTE, catalog, foreign") {
  std::vector<std::string> statements = {
      "SELECT * FROM adviser.indexed WHERE code = 77",
      "SELECT * FROM adviser.tiny WHERE code = 77",
      "WITH x AS MATERIALIZED (SELECT * FROM adviser.events) SELECT * FROM x WHERE account_id = 7",
      "SELECT attrelid FROM pg_attribute WHERE attname = 'relname'",
      "SELECT oid FROM pg_class WHERE reltuples = 42",
  };
  bool foreign = psql_value("SELECT to_regclass('adviser.remote_numbers') IS NOT NULL") == "t";
  if (foreign)
    statements.push_back("SELECT n FROM adviser.remote_numbers WHERE n = 4242");
  else
    MESSAGE("file_fdw is not available: the foreign-table case is skipped");
  auto r = diagnose_workload(statements);
  for (const auto& f : findings_of(r.report, "db.missing_index"))
    FAIL_CHECK("unexpected advice: " << f["title"]);
}

TEST_CASE("existing indexes: a duplicate (prefix of another) and a never-scanned one on a written table") {
  ensure_tables();
  auto r0 = app_psql(
      {"-c",
       "CREATE INDEX IF NOT EXISTS ledger_account_idx ON adviser.ledger (account_id); "
       "CREATE INDEX IF NOT EXISTS ledger_account_created_idx ON adviser.ledger (account_id, created_at); "
       "CREATE INDEX IF NOT EXISTS ledger_memo_idx ON adviser.ledger (memo);"});
  REQUIRE_MESSAGE(r0.exit_code == 0, r0.err);
  auto r =
      diagnose_workload({"INSERT INTO adviser.ledger (account_id, created_at, memo) "
                         "SELECT i % 100, now(), 'n' || i FROM generate_series(1, 500) i"});
  std::vector<ordered_json> dup;
  for (const auto& f : findings_of(r.report, "db.duplicate_index"))
    if (f["evidence"]["table"] == "ledger") dup.push_back(f);
  REQUIRE(dup.size() == 1);
  CHECK(dup[0]["severity"] == "low");
  CHECK(dup[0]["evidence"]["index"] == "ledger_account_idx");
  CHECK(dup[0]["evidence"]["covering_index"] == "ledger_account_created_idx");
  CHECK(dup[0]["evidence"]["stats_age_s"].is_number());
  std::set<std::string> unused;
  for (const auto& f : findings_of(r.report, "db.unused_index"))
    if (f["evidence"]["table"] == "ledger") {
      unused.insert(f["evidence"]["index"].get<std::string>());
      CHECK(f["evidence"]["table_writes"].get<double>() >= 1500);
      CHECK(f["severity"] == "low");
    }
  CHECK(unused.count("ledger_memo_idx") == 1);
  CHECK(unused.count("ledger_account_idx") == 0);  // reported once, as the duplicate
  CHECK(unused.count("ledger_pkey") == 0);         // a constraint's index
  // The DROP statement runs as given.
  std::string sql = dup[0]["remediation"]["sql"];
  auto drop = app_psql({"-f", "-"}, sql);
  CHECK_MESSAGE(drop.exit_code == 0, sql << "\n" << drop.err);
  CHECK(psql_value("SELECT to_regclass('adviser.ledger_account_idx') IS NULL") == "t");
}
