// #24 --threads through the whole diagnosis: the report does not depend on the thread count.
#include <doctest/doctest.h>

#include "harness.hpp"

TEST_CASE("CLI --threads: the same report at 1 thread and at 3, a negative count refused") {
  // A capture repeated into a file of several blocks, read through the whole diagnosis.
  std::string capture = cp::test::slurp(cp::test::source_dir() +
                                        "/tests/workloads/node/captures/graphql_resolver_n_plus_one.otlp.jsonl");
  REQUIRE(!capture.empty());
  std::string text;
  for (int i = 0; i < 8; ++i) text += capture;
  std::string path = cp::test::write_temp("threads.jsonl", text);
  auto strip = [](nlohmann::ordered_json r) {
    r.erase("run");
    for (auto& p : r["probes"]) p.erase("duration_ms");
    return r;
  };
  auto one = cp::test::diagnose_json({"--traces", path, "--threads", "1"});
  auto three = cp::test::diagnose_json({"--traces", path, "--threads", "3"});
  REQUIRE(one.exit_code == three.exit_code);
  CHECK(!cp::test::findings_of(one.report, "db.n_plus_one").empty());
  CHECK(strip(one.report).dump() == strip(three.report).dump());
  CHECK(cp::test::run({cp::test::chokepoint_bin(), "diagnose", "--traces", path, "--threads", "-1"}).exit_code == 2);
}
