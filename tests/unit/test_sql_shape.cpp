#include <doctest/doctest.h>

#include "probes/postgres/sql_shape.hpp"

// This file's names (cp::pg's among them) stay in it when a unity build compiles
// it together with other tests.
namespace test_sql_shape {

using namespace cp::pg;

TEST_CASE("filter_columns reads equality and range columns through casts and qualifiers") {
  auto f = filter_columns("((o.customer_id = $1) AND ((status)::text = 'paid'::text) AND (created_at > $2))");
  CHECK(f.equality == std::vector<std::string>{"customer_id", "status"});
  CHECK(f.range == std::vector<std::string>{"created_at"});
  CHECK(filter_columns("(id = ANY ($1))").equality == std::vector<std::string>{"id"});
  CHECK(filter_columns("($1 = tenant_id)").equality == std::vector<std::string>{"tenant_id"});
}

TEST_CASE("filter_columns ignores what one btree index cannot serve") {
  CHECK(filter_columns("((a = $1) OR (b = $2))").empty());
  CHECK(filter_columns("(a = b)").empty());  // column against column
  CHECK(filter_columns("(lower(email) = $1)").empty());
  CHECK(filter_columns("").empty());
  CHECK(filter_columns("not sql at all (").empty());
}

TEST_CASE("index_candidates: combined first, then each column") {
  FilterColumns f{{"a", "b"}, {"c"}};
  auto c = index_candidates(f);
  REQUIRE(c.size() == 4);
  CHECK(c[0] == std::vector<std::string>{"a", "b", "c"});
  CHECK(c[1] == std::vector<std::string>{"a"});
}

TEST_CASE("is_point_lookup: single-table equality selects only") {
  CHECK(is_point_lookup("SELECT id, name FROM products WHERE id = $1"));
  CHECK(is_point_lookup("SELECT * FROM users WHERE tenant_id = $1 AND id = $2 LIMIT 1"));
  CHECK_FALSE(is_point_lookup("SELECT * FROM a JOIN b ON a.id = b.a_id WHERE a.id = $1"));
  CHECK_FALSE(is_point_lookup("SELECT count(*) FROM orders WHERE customer_id = $1"));
  CHECK_FALSE(is_point_lookup("SELECT * FROM orders WHERE created_at > $1"));
  CHECK_FALSE(is_point_lookup("SELECT * FROM orders WHERE id = $1 OR id = $2"));
  CHECK_FALSE(is_point_lookup("UPDATE orders SET status = $1 WHERE id = $2"));
  CHECK_FALSE(is_point_lookup("SELECT * FROM orders"));
}

TEST_CASE("is_explainable: one SELECT, UPDATE or DELETE, never utility or multi-statement text") {
  CHECK(is_explainable("SELECT * FROM orders WHERE customer_id = $1"));
  CHECK(is_explainable("UPDATE orders SET status = $1 WHERE id = $2"));
  CHECK(is_explainable("DELETE FROM orders WHERE id = $1"));
  CHECK_FALSE(is_explainable("SELECT 1; DROP TABLE orders"));
  CHECK_FALSE(is_explainable("VACUUM ANALYZE"));
  CHECK_FALSE(is_explainable("SELECT * INTO copy FROM orders"));
  CHECK_FALSE(is_explainable("INSERT INTO orders VALUES ($1)"));
  CHECK_FALSE(is_explainable("garbage"));
}

TEST_CASE("create_index_sql quotes only what needs quotes") {
  CHECK(create_index_sql("public", "orders", {"customer_id"}, true) ==
        "CREATE INDEX CONCURRENTLY ON public.orders (customer_id)");
  CHECK(create_index_sql("app", "user", {"Email", "a\"b"}, false) ==
        "CREATE INDEX ON app.\"user\" (\"Email\", \"a\"\"b\")");
}

TEST_CASE("seq_scans scales a parallel scan's per-worker estimate") {
  auto plan = nlohmann::json::parse(R"J({"Node Type": "Gather", "Workers Planned": 2, "Plans": [
      {"Node Type": "Seq Scan", "Parallel Aware": true, "Relation Name": "orders", "Schema": "public",
       "Filter": "(customer_id = $1)", "Plan Rows": 21, "Total Cost": 100}]})J");
  auto scans = seq_scans(plan);
  REQUIRE(scans.size() == 1);
  CHECK(scans[0].node_type == "Parallel Seq Scan");
  CHECK(scans[0].plan_rows == 63);
  CHECK(scans[0].table == "orders");
}

}  // namespace test_sql_shape
