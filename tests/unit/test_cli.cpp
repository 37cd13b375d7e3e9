// The binary itself: exit codes, formats, --output, --replay and secrets, on recorded evidence.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "harness.hpp"

using namespace cp::test;

namespace {}  // namespace

TEST_CASE("usage errors exit 2 with a message") {
  auto bin = chokepoint_bin();
  CHECK(run({bin}).exit_code == 2);
  CHECK(run({bin, "diagnose"}).exit_code == 2);
  CHECK(run({bin, "diagnose", "--postgres", "x", "--bogus"}).exit_code == 2);
  CHECK(run({bin, "diagnose", "--postgres", "host=x", "--window", "-1"}).exit_code == 2);
  CHECK(run({bin, "diagnose", "--postgres", "host=x", "--format", "yaml"}).exit_code == 2);
  CHECK(run({bin, "diagnose", "--postgres", "host=x", "--fail-on", "severe"}).exit_code == 2);
  auto bad_dsn = run({bin, "diagnose", "--postgres", "postgresql://u:pw@[broken"});
  CHECK(bad_dsn.exit_code == 2);
  CHECK(bad_dsn.err.find("--postgres") != std::string::npos);
  auto r = run({bin, "rules", "db.nope"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("db.nope") != std::string::npos);
  CHECK(run({bin, "diagnose", "--replay", "/nonexistent/evidence.json"}).exit_code == 2);
}

TEST_CASE("--version and --help exit 0") {
  auto v = run({chokepoint_bin(), "--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("chokepoint 0.1.0") != std::string::npos);
  CHECK(run({chokepoint_bin(), "diagnose", "--help"}).exit_code == 0);
}

TEST_CASE("rules lists every rule and explains one with thresholds and sources") {
  auto all = run({chokepoint_bin(), "rules"});
  CHECK(all.exit_code == 0);
  CHECK(all.out.find("db.missing_index") != std::string::npos);
  auto one = run({chokepoint_bin(), "rules", "db.slow_query"});
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("min_mean_ms") != std::string::npos);
  CHECK(one.out.find("PgHero") != std::string::npos);
  auto json = nlohmann::json::parse(run({chokepoint_bin(), "rules", "--format", "json"}).out);
  CHECK(json.size() >= 4);
}

TEST_CASE("rules say which thresholds scale with the window and which apply to cumulative statistics only") {
  auto one = run({chokepoint_bin(), "rules", "db.slow_query"});
  CHECK(one.out.find("min_calls = 100 calls  [--window 0 only: cumulative statistics]") != std::string::npos);
  CHECK(one.out.find("min_busy_ms_per_s = 200 ms/s  [in a window; scales with it]") != std::string::npos);
  CHECK(one.out.find("min_db_time_ms_per_s = 50 ms/s  [scales with the window]") != std::string::npos);
  auto rule =
      nlohmann::json::parse(run({chokepoint_bin(), "rules", "db.slow_query", "--format", "json"}).out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& t : rule["thresholds"]) by_name[t["name"]] = t;
  CHECK(by_name["min_calls"]["scales_with_window"] == false);
  CHECK(by_name["min_calls"]["applies_to"] == "cumulative");
  CHECK(by_name["min_busy_ms_per_s"]["scales_with_window"] == true);
  CHECK(by_name["min_busy_ms_per_s"]["applies_to"] == "window");
  CHECK(by_name["min_mean_ms"]["scales_with_window"] == false);
  CHECK(by_name["min_mean_ms"]["applies_to"] == "any");
  // Every threshold of every rule says it (additive keys beside name, default, unit, meaning, source).
  for (const auto& r : nlohmann::json::parse(run({chokepoint_bin(), "rules", "--format", "json"}).out))
    for (const auto& t : r["thresholds"]) {
      CAPTURE(r["id"]);
      CHECK(t.contains("scales_with_window"));
      CHECK(t.contains("applies_to"));
      CHECK(t.contains("source"));
    }
}

TEST_CASE("--replay judges saved evidence: verdict, gate exit code, --output written atomically") {
  auto r = diagnose_json({"--replay", fixture_path("postgres/missing_index.evidence.json")});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "database");
  CHECK(r.report["run"]["replayed"] == true);
  auto gated =
      diagnose_json({"--replay", fixture_path("postgres/missing_index.evidence.json"), "--fail-on", "high"});
  CHECK(gated.exit_code == 1);
  CHECK(gated.report["gate"]["status"] == "fail");
  auto healthy =
      diagnose_json({"--replay", fixture_path("postgres/healthy.evidence.json"), "--fail-on", "medium"});
  CHECK(healthy.exit_code == 0);
  CHECK(healthy.report["verdict"]["category"] == "none");

  std::string out = temp_path("report.txt");
  auto w = run({chokepoint_bin(), "diagnose", "--replay", fixture_path("postgres/n_plus_one.evidence.json"),
                "--output", out});
  CHECK(w.exit_code == 0);
  CHECK(w.out.empty());
  CHECK(slurp(out).find("db.n_plus_one") != std::string::npos);
  auto unwritable =
      run({chokepoint_bin(), "diagnose", "--replay", fixture_path("postgres/n_plus_one.evidence.json"),
           "--output", "/nonexistent-dir/report.txt"});
  CHECK(unwritable.exit_code == 2);
  CHECK(unwritable.err.find("/nonexistent-dir") != std::string::npos);
}

TEST_CASE("NO_COLOR and pipes: no escape codes in the text report") {
  auto r = run({"env", "NO_COLOR=1", chokepoint_bin(), "diagnose", "--replay",
                fixture_path("postgres/missing_index.evidence.json")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\x1b[") == std::string::npos);
  CHECK(r.out.find("VERDICT") == 0 + r.out.find("VERDICT"));
}

TEST_CASE("an unreachable target: exit 3, a report with the probe in error, no secret anywhere") {
  std::string evidence = temp_path("evidence.json");
  auto r = diagnose_json({"--postgres", "postgresql://app:Hunter2-secret@127.0.0.1:1/shop", "--window", "0",
                          "--save-evidence", evidence});
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  REQUIRE(r.report.is_object());
  CHECK(r.report["probes"][0]["status"] == "error");
  CHECK(r.report["probes"][0]["message"].get<std::string>().find("connection refused") != std::string::npos);
  CHECK(r.report["verdict"]["category"] == "none");
  CHECK(r.stdout_text.find("Hunter2-secret") == std::string::npos);
  CHECK(r.stderr_text.find("Hunter2-secret") == std::string::npos);
  CHECK(slurp(evidence).find("Hunter2-secret") == std::string::npos);
  auto text = run({chokepoint_bin(), "diagnose", "--postgres",
                   "password=Hunter2-secret host=127.0.0.1 port=1", "--window", "0"});
  CHECK(text.exit_code == 3);
  CHECK(text.out.find("Hunter2-secret") == std::string::npos);
  CHECK(text.err.find("Hunter2-secret") == std::string::npos);
}

TEST_CASE("--output onto a device, a FIFO or a symlink writes into it and never replaces it") {
  struct stat st {};
  auto r = run({chokepoint_bin(), "diagnose", "--replay", fixture_path("postgres/healthy.evidence.json"),
                "--output", "/dev/null"});
  CHECK(r.exit_code == 0);
  REQUIRE(stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));

  std::string target = temp_path("real-report.txt");
  std::string link = temp_path("link-report.txt");
  REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
  r = run({chokepoint_bin(), "diagnose", "--replay", fixture_path("postgres/healthy.evidence.json"),
           "--output", link});
  CHECK(r.exit_code == 0);
  struct stat lst {};
  REQUIRE(lstat(link.c_str(), &lst) == 0);
  CHECK(S_ISLNK(lst.st_mode));
  CHECK(slurp(target).find("VERDICT") != std::string::npos);
}
