// Advice before scaling: each lever judged from measurements, on both sides of its thresholds.
#include <doctest/doctest.h>

#include "core/advice.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "probes/postgres/statement_access.hpp"

using namespace cp;

namespace {

TableLoad table(const std::string& name, double rows, double scans, double writes) {
  TableLoad t;
  t.schema = "public";
  t.name = name;
  t.rows = rows;
  t.size_bytes = rows * 100;
  t.scans = scans;
  t.read_calls = scans;
  t.updates = writes;
  return t;
}

PostgresLoad busy_database() {
  PostgresLoad pg;
  pg.target = pg.component = "postgres:shop";
  pg.database = "shop";
  pg.window_s = 10;
  pg.usable_connections = 97;
  pg.max_connections = 100;
  pg.samples = 50;
  return pg;
}

std::vector<Advice> of(const std::vector<Advice>& all, const std::string& id) {
  std::vector<Advice> out;
  for (const auto& a : all)
    if (a.id == id) out.push_back(a);
  return out;
}

std::vector<Advice> advise_pg(const PostgresLoad& pg, const Settings& s = {}) {
  LeverInputs in;
  in.postgres.push_back(pg);
  return advise(in, Report{}, s);
}

}  // namespace

TEST_CASE("statement access: reads / writes / range columns and session features from the parse tree") {
  using pg::StatementKind;
  auto sel = pg::statement_access("SELECT id FROM events WHERE created_at >= now() - $1 AND kind = $2");
  CHECK(sel.kind == StatementKind::read);
  CHECK(sel.tables == std::vector<std::string>{"events"});
  CHECK(sel.range_columns == std::vector<std::string>{"created_at"});
  CHECK_FALSE(sel.aggregate);
  CHECK(pg::statement_access("SELECT count(*) FROM a JOIN b ON a.id = b.a_id").tables.size() == 2);
  CHECK(pg::statement_access("SELECT count(*) FROM a").aggregate);
  CHECK(pg::statement_access("SELECT * FROM a WHERE id = $1 FOR UPDATE").kind == StatementKind::write);
  CHECK(pg::statement_access("WITH x AS (DELETE FROM a RETURNING *) SELECT * FROM x").kind ==
        StatementKind::write);
  auto del = pg::statement_access("DELETE FROM events WHERE created_at < $1");
  CHECK(del.kind == StatementKind::write);
  CHECK(del.verb == "delete");
  CHECK(del.range_columns == std::vector<std::string>{"created_at"});
  CHECK(pg::statement_access("BEGIN").kind == StatementKind::other);
  CHECK(pg::statement_access("SELECT pg_advisory_lock($1)").session_feature == "advisory locks");
  CHECK(pg::statement_access("SELECT pg_advisory_xact_lock($1)").session_feature.empty());
  CHECK(pg::statement_access("SET search_path = app").session_feature == "SET");
  CHECK(pg::statement_access("SET LOCAL statement_timeout = 0").session_feature.empty());
  CHECK(pg::statement_access("not sql at all").kind == StatementKind::other);
}

TEST_CASE("read replicas: reads at 10:1 of write time and a busy database but never when writes dominate") {
  PostgresLoad pg = busy_database();
  pg.read_ms = 9000;
  pg.write_ms = 800;
  pg.db_time_ms = 9800;
  auto r = of(advise_pg(pg), "advice.read_replicas");
  REQUIRE(r.size() == 1);
  CHECK(r[0].evidence["read_to_write_ratio"].get<double>() == doctest::Approx(11.25));
  CHECK(r[0].expected_gain.share == doctest::Approx(9000.0 / 9800).epsilon(1e-3));

  pg.write_ms = 1000;  // 9:1
  pg.db_time_ms = 10000;
  CHECK(of(advise_pg(pg), "advice.read_replicas").empty());
  pg.write_ms = 0;
  pg.read_ms = pg.db_time_ms = 500;  // 50 ms/s: not busy
  CHECK(of(advise_pg(pg), "advice.read_replicas").empty());
}

TEST_CASE("cache: a hot read over a rarely written table / with the TTL bound from the write interval") {
  PostgresLoad pg = busy_database();
  pg.db_time_ms = 1000;
  pg.tables = {table("plans", 200, 10000, 0), table("rates", 200, 10000, 5000)};
  pg.reads = {{"SELECT * FROM plans WHERE id = $1", 10000, 300, 10000, {"plans"}, false},
              {"SELECT * FROM rates WHERE id = $1", 10000, 300, 10000, {"rates"}, false}};
  auto caches = of(advise_pg(pg), "advice.cache");
  REQUIRE(caches.size() == 1);
  CHECK(caches[0].evidence["tables"] == json::array({"plans"}));
  CHECK(caches[0].evidence["ttl_bound_s"].is_null());  // never written in the window
  CHECK(caches[0].evidence["layer"] == "in-process");

  pg.tables[0].updates = 50;  // one write per 200 reads: every 0.2 s
  caches = of(advise_pg(pg), "advice.cache");
  REQUIRE(caches.size() == 1);
  CHECK(caches[0].evidence["ttl_bound_s"].get<double>() == doctest::Approx(0.2));

  pg.tables[0].updates = 101;  // just over one write per 100 reads
  CHECK(of(advise_pg(pg), "advice.cache").empty());
}

TEST_CASE("cache: a large table goes to Redis / whose hit ratio and evictions enter the estimate") {
  PostgresLoad pg = busy_database();
  pg.db_time_ms = 1000;
  pg.tables = {table("catalog", 10'000'000, 10000, 0)};
  pg.reads = {{"SELECT * FROM catalog WHERE id = $1", 10000, 500, 10000, {"catalog"}, false}};
  LeverInputs in;
  in.postgres.push_back(pg);
  in.redis.push_back({"redis://cache", "redis:cache", 0.8, 1200, 5000, 1e6, 1e6});
  auto caches = of(advise(in, Report{}, Settings{}), "advice.cache");
  REQUIRE(caches.size() == 1);
  CHECK(caches[0].evidence["layer"] == "redis");
  CHECK(caches[0].evidence["expected_hit_ratio"].get<double>() == doctest::Approx(0.8));
  CHECK(caches[0].expected_gain.share == doctest::Approx(0.4));  // half the time x 0.8
  CHECK(caches[0].preconditions.back().find("evicts") != std::string::npos);
}

TEST_CASE(
    "partitioning: a large append-mostly table read and purged by time / small or updated tables stay "
    "quiet") {
  PostgresLoad pg = busy_database();
  TableLoad events = table("events", 50'000'000, 100, 0);
  events.size_bytes = 20e9;
  events.inserts = 5000;
  events.range_column = "created_at";
  events.range_query = "SELECT * FROM events WHERE created_at >= $1";
  events.range_read_calls = 100;
  events.range_rows_per_call = 50'000;  // 0.1 % of the table
  events.time_span_s = 365 * 86400.0;
  events.purge_query = "DELETE FROM events WHERE created_at < $1";
  pg.tables = {events};
  auto p = of(advise_pg(pg), "advice.partitioning");
  REQUIRE(p.size() == 1);
  CHECK(p[0].evidence["partition_interval"] == "1 day");  // a query reads ~9 hours
  CHECK(p[0].evidence["pruned_share"].get<double>() > 0.99);
  CHECK(p[0].config->find("DETACH PARTITION") != std::string::npos);

  pg.tables[0].updates = 1000;  // inserts only 5x updates: not append-mostly
  CHECK(of(advise_pg(pg), "advice.partitioning").empty());
  pg.tables[0].updates = 0;
  pg.tables[0].rows = 9'000'000;
  CHECK(of(advise_pg(pg), "advice.partitioning").empty());

  Settings lowered = parse_config("[advice.\"advice.partitioning\"]\nmin_table_rows = 1000000\n", "t.toml");
  CHECK(of(advise_pg(pg, lowered), "advice.partitioning").size() == 1);
}

TEST_CASE(
    "connection pooling: pool numbers from the measured concurrency and clients / session features keep "
    "session mode") {
  PostgresLoad pg = busy_database();
  pg.xacts = 1000;
  pg.sessions = 1000;
  pg.connect_ms = 4.0;
  pg.db_time_ms = 2000;  // 0.2 statements executing on average
  pg.active_peak = 6;
  pg.connections_peak = 8;
  auto a = of(advise_pg(pg), "advice.connection_pooling");
  REQUIRE(a.size() == 1);
  CHECK(a[0].evidence["default_pool_size"] == 8);  // ceil(6 x 1.25)
  CHECK(a[0].evidence["reserve_pool_size"] == 2);
  CHECK(a[0].evidence["max_client_conn"] == 100);
  CHECK(a[0].evidence["max_db_connections"] == 87);
  CHECK(a[0].evidence["pool_mode"] == "transaction");
  CHECK(a[0].config->find("default_pool_size = 8") != std::string::npos);

  pg.session_features = {"advisory locks"};
  CHECK(of(advise_pg(pg), "advice.connection_pooling")[0].evidence["pool_mode"] == "session");
  pg.sessions = 50;  // 5 per second, one per 20 transactions
  CHECK(of(advise_pg(pg), "advice.connection_pooling").empty());
}

TEST_CASE("rate limiting: one client over 60 % of active sessions among three or more") {
  PostgresLoad pg = busy_database();
  pg.clients = {{"nightly-report", "10.0.0.5", "report", 3.0, 3.0},
                {"web", "10.0.0.6", "app", 0.6, 2.0},
                {"mobile", "10.0.0.7", "app", 0.4, 2.0}};
  auto a = of(advise_pg(pg), "advice.rate_limiting");
  REQUIRE(a.size() == 1);
  CHECK(a[0].evidence["top_client"] == "nightly-report (report@10.0.0.5)");
  CHECK(a[0].evidence["top_client_share"].get<double>() == doctest::Approx(0.75));
  CHECK(a[0].evidence["suggested_concurrency_limit"] == 2);
  pg.clients[0].active_avg = 1.0;  // 1 of 2: 50 %
  CHECK(of(advise_pg(pg), "advice.rate_limiting").empty());
}

TEST_CASE(
    "scaling: do not scale out on a database verdict / scale out on infrastructure with the database idle") {
  PostgresLoad pg = busy_database();
  pg.connections_peak = 90;
  pg.db_time_ms = 30000;
  Report r;
  r.verdict = {Category::database, 0.9, "a headline"};
  LeverInputs in;
  in.postgres.push_back(pg);
  auto a = advise(in, r, Settings{});
  REQUIRE(!a.empty());
  CHECK(a[0].id == "advice.do_not_scale_out");
  CHECK(a[0].evidence["connections_peak"] == 90);

  r.verdict = {Category::infrastructure, 0.8, "CPU throttled"};
  CHECK(of(advise(in, r, Settings{}), "advice.scale_out").empty());  // the database is busy
  in.postgres[0].db_time_ms = 500;
  in.postgres[0].connections_peak = 10;
  auto s = of(advise(in, r, Settings{}), "advice.scale_out");
  REQUIRE(s.size() == 1);
  CHECK(s[0].evidence["connection_headroom"] == 87);
  CHECK(of(advise(in, r, Settings{}), "advice.do_not_scale_out").empty());
}

TEST_CASE("advice settings: thresholds and level under [advice.\"ID\"] / unknown ids refused") {
  Settings s = parse_config("[advice.\"advice.read_replicas\"]\nlevel = \"off\"\n", "t.toml");
  PostgresLoad pg = busy_database();
  pg.read_ms = pg.db_time_ms = 9000;
  CHECK(of(advise_pg(pg), "advice.read_replicas").size() == 1);
  CHECK(of(advise_pg(pg, s), "advice.read_replicas").empty());
  CHECK_THROWS_AS(parse_config("[advice.\"advice.nope\"]\nx = 1\n", "t.toml"), UsageError);
  CHECK_THROWS_AS(parse_config("[advice.\"advice.cache\"]\nnope = 1\n", "t.toml"), UsageError);
  for (const auto& lever : advice_catalog())
    for (const auto& t : lever.thresholds) CHECK_MESSAGE(!t.source.empty(), lever.id << " " << t.name);
}
