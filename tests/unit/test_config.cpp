#include <doctest/doctest.h>

#include "core/config.hpp"
#include "core/error.hpp"

using namespace cp;

namespace {
std::string error_of(const std::string& toml) {
  try {
    parse_config(toml, "chokepoint.toml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("config: levels, thresholds, severities, probe options, per-target sections") {
  auto s = parse_config(R"(
[rules."db.missing_index"]
level = "error"
min_table_rows = 50000
severity = "high"

[rules."db.low_cache_hit"]
level = "off"

[probes.postgres]
explain_top = 5

[targets."postgresql://app@db:5432/shop".rules."db.slow_query"]
min_mean_ms = 100
)",
                        "chokepoint.toml");
  CHECK(s.level("db.missing_index") == RuleLevel::error);
  CHECK(s.params("db.missing_index")["min_table_rows"] == 50000);
  CHECK(s.severity_override("db.missing_index") == Severity::high);
  CHECK_FALSE(s.enabled("db.low_cache_hit"));
  CHECK(s.probe_option("postgres", "explain_top", 20) == 5);
  CHECK(s.params("db.slow_query")["min_mean_ms"] == 20);
  CHECK(s.for_target("postgresql://app@db:5432/shop").params("db.slow_query")["min_mean_ms"] == 100);
  CHECK(s.for_target("postgresql://other/x").params("db.slow_query")["min_mean_ms"] == 20);
}

TEST_CASE("config: anything unknown is an error that names it") {
  CHECK(error_of("[rules.\"db.missing_indexes\"]\nlevel = \"off\"\n").find("db.missing_indexes") !=
        std::string::npos);
  CHECK(error_of("[rules.\"db.missing_indexes\"]\nlevel = \"off\"\n").find("did you mean db.missing_index") !=
        std::string::npos);
  CHECK(error_of("[rules.\"db.slow_query\"]\nmin_mean = 3\n").find("min_mean") != std::string::npos);
  CHECK(error_of("[rules.\"db.slow_query\"]\nlevel = \"loud\"\n").find("level") != std::string::npos);
  CHECK(error_of("[rules.\"db.slow_query\"]\nmin_mean_ms = \"fast\"\n").find("number") != std::string::npos);
  CHECK(error_of("[probes.mysql]\nx = 1\n").find("mysql") != std::string::npos);
  CHECK(error_of("[probes.postgres]\nexplain_bottom = 1\n").find("explain_bottom") != std::string::npos);
  CHECK(error_of("[gates]\n").find("gates") != std::string::npos);
  CHECK(error_of("[rules\n").find("chokepoint.toml:1") != std::string::npos);
  CHECK(error_of("").empty());
}
