// Issue #11, secrets: no statement text, DSN or URL value leaves chokepoint by any road (reports
// in every format, evidence, stderr, error messages).
#include <doctest/doctest.h>

#include <fstream>
#include <regex>

#include "harness.hpp"
#include "util/conninfo.hpp"
#include "util/redact.hpp"
#include "util/sql.hpp"

using namespace cp;
using namespace cp::test;

namespace {

// Every format of a replayed run, stdout and stderr together.
std::string all_outputs(const std::vector<std::string>& args) {
  std::string out;
  for (const char* format : {"text", "json", "markdown", "junit", "prometheus"}) {
    std::vector<std::string> argv{chokepoint_bin(), "diagnose"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--format", format});
    auto r = run(argv);
    out += r.out + r.err;
  }
  return out;
}

}  // namespace

TEST_CASE("statement texts: constants become $n, credentials never show, even unparsable") {
  struct Case {
    std::string raw, secret;
  };
  for (const Case& c : std::vector<Case>{
           {"ALTER ROLE app PASSWORD 'Hunter2-secret'", "Hunter2-secret"},
           {"CREATE ROLE app WITH LOGIN PASSWORD 'Hunter2-secret' VALID UNTIL 'infinity'", "Hunter2-secret"},
           {"CREATE USER MAPPING FOR app SERVER remote OPTIONS (user 'u', password 'Hunter2-secret')",
            "Hunter2-secret"},
           {"SELECT dblink_connect('host=db user=app password=Hunter2-secret')", "Hunter2-secret"},
           {"SET app.password = Hunter2secret", "Hunter2secret"},
           {"ALTER ROLE app PASSWORD $$Hunter2-secret$$", "Hunter2-secret"},
           {"ALTER USER app PASSWORD 'Hunter2-sec", "Hunter2-sec"},     // cut by track_activity_query_size
           {"ALTER ROLE app PASSWORD Hunter2secret", "Hunter2secret"},  // not SQL: still never shown
           {"SELECT * FROM customers WHERE email = 'alice@example.com'", "alice@example.com"},
       }) {
    CAPTURE(c.raw);
    std::string shown = statement_text_for_output(c.raw);
    CHECK(shown.find(c.secret) == std::string::npos);
    CHECK_FALSE(shown.empty());
  }
  CHECK(statement_text_for_output("ALTER ROLE app PASSWORD Hunter2secret") == "ALTER ROLE ***");
  CHECK(statement_text_for_output("SELECT id FROM users WHERE password_hash = 'x' AND id = 7") ==
        "SELECT id FROM users WHERE password_hash = $1 AND id = $2");
  // A query text PostgreSQL cut short is kept up to its first literal.
  CHECK(statement_text_for_output("SELECT a1, b FROM t2 WHERE c = 'abc") ==
        "SELECT a1, b FROM t2 WHERE c = …");
  // Safe texts stay as they are (the judge applies this again to replayed evidence).
  for (std::string s : {"SELECT * FROM t WHERE id = $1", "ALTER ROLE ***", "SELECT a FROM t WHERE c = …"})
    CHECK(statement_text_for_output(s) == s);
}

TEST_CASE("pg_stat_statements and pg_stat_activity texts with a role password: no format shows it") {
  auto ev = fixture("postgres/healthy.evidence.json");
  auto& snap = ev["probes"][0]["snapshot"];
  snap["statements"][0]["query"] = "ALTER ROLE app PASSWORD 'Hunter2-secret'";
  snap["statements"][0]["total_exec_ms"] = 1e6;  // the top statement
  snap["activity"] = nlohmann::json::array(
      {{{"t_s", 0},
        {"total", 1},
        {"active", 1},
        {"sessions",
         {{{"pid", 42},
           {"state", "active"},
           {"xact_age_s", 5},
           {"query", "CREATE USER MAPPING FOR app SERVER s OPTIONS (password 'Hunter2-secret')"}}}}}});
  std::string path = write_temp("secret.evidence.json", ev.dump());
  std::string out = all_outputs({"--replay", path});
  CHECK(out.find("ALTER ROLE") != std::string::npos);  // the statement is still reported
  CHECK(out.find("Hunter2-secret") == std::string::npos);
}

TEST_CASE(
    "evidence from before texts were normalized, replayed and saved again: constants and credentials gone") {
  auto ev = fixture("postgres/healthy.evidence.json");
  auto& snap = ev["probes"][0]["snapshot"];
  snap["statements"][0]["query"] = "ALTER ROLE app PASSWORD 'Hunter2-secret'";
  snap["statements"][1]["query"] = "SELECT id FROM users WHERE email = 'bob@example.com' AND id = 42";
  snap["activity"] = nlohmann::json::array(
      {{{"t_s", 0},
        {"total", 1},
        {"active", 1},
        {"sessions",
         {{{"pid", 42},
           {"state", "active"},
           {"xact_age_s", 5},
           {"query", "CREATE USER MAPPING FOR app SERVER s OPTIONS (password 'Hunter2-secret')"}}}}}});
  std::string saved = temp_path("resaved.evidence.json");
  auto r = run({chokepoint_bin(), "diagnose", "--replay", write_temp("old-texts.evidence.json", ev.dump()),
                "--save-evidence", saved});
  CHECK(r.exit_code == 0);
  auto again = nlohmann::json::parse(slurp(saved));
  const auto& s = again["probes"][0]["snapshot"];
  CHECK(s["statements"][0]["query"] == "ALTER ROLE ***");
  CHECK(s["statements"][1]["query"] == "SELECT id FROM users WHERE email = $1 AND id = $2");
  CHECK(s["activity"][0]["sessions"][0]["query"] == "CREATE USER MAPPING ***");
  std::string text = slurp(saved);
  CHECK(text.find("Hunter2-secret") == std::string::npos);
  CHECK(text.find("bob@example.com") == std::string::npos);
  // Nothing else of the snapshot changes.
  auto rest = [](nlohmann::json snapshot) {
    snapshot.erase("statements");
    snapshot.erase("activity");
    return snapshot;
  };
  CHECK(rest(s) == rest(snap));
}

TEST_CASE("trace statement texts with credentials: no format shows them") {
  std::string text = slurp(fixture_path("traces/otlp_n_plus_one.json"));
  text = std::regex_replace(text, std::regex("SELECT id, name, email FROM users WHERE id = [0-9]+"),
                            "ALTER ROLE app PASSWORD $$$$Hunter2-secret$$$$");
  std::string path = write_temp("secret-traces.json", text);
  std::string out = all_outputs({"--traces", path});
  CHECK(out.find("ALTER ROLE") != std::string::npos);
  CHECK(out.find("Hunter2-secret") == std::string::npos);
}

TEST_CASE("a DSN libpq cannot parse: its error never echoes the password") {
  for (std::string dsn : {"postgresql://app:Hunter2%zzsecret@db/shop", "host=db password=Hunter2 secret",
                          "postgresql://app:Hunter2secret@[db/shop", "host=db password='Hunter2secret"}) {
    CAPTURE(dsn);
    for (const char* flag : {"--postgres", "--pgbouncer"}) {
      auto r = run({chokepoint_bin(), "diagnose", flag, dsn, "--window", "0"});
      CHECK(r.exit_code == 2);
      CHECK(r.err.find(flag) != std::string::npos);
      CHECK(r.err.find("Hunter2") == std::string::npos);
      CHECK(r.err.find("secret") == std::string::npos);
    }
  }
  std::string error;
  CHECK_FALSE(pg::parse_conninfo("host=db password=Hunter2 secret", error));
  CHECK(error == "missing \"=\" after \"***\" in connection info string");  // still says what is wrong
}

TEST_CASE("URLs: every query value hidden in reports, evidence and errors and userinfo without a scheme") {
  std::string url = "http://127.0.0.1:1/x?pwd=Hunter2pw&sessionid=Sess1on99&code=C0de777";
  std::string evidence = temp_path("url.evidence.json");
  auto r = diagnose_json({"--http", url, "--window", "0", "--save-evidence", evidence});
  CHECK(r.exit_code == 3);
  CHECK(r.schema_errors.empty());
  std::string everything = r.stdout_text + r.stderr_text + slurp(evidence);
  for (const char* secret : {"Hunter2pw", "Sess1on99", "C0de777"})
    CHECK(everything.find(secret) == std::string::npos);
  CHECK(r.report["targets"][0]["name"] == "http://127.0.0.1:1/x?pwd=***&sessionid=***&code=***");

  auto bad = run({chokepoint_bin(), "diagnose", "--http", "app:Hunter2pw@api.internal/x"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("Hunter2pw") == std::string::npos);
  CHECK(redact_url("app:Hunter2pw@api.internal:8080/x") == "app:***@api.internal:8080/x");
}

TEST_CASE("targets and messages read back from replayed evidence or a saved report are redacted") {
  auto ev = fixture("postgres/healthy.evidence.json");
  ev["probes"][0]["target"] = "postgresql://app:Hunter2pw@db/shop?sslpassword=Hunter2ssl";
  ev["probes"].push_back({{"kind", "http"},
                          {"flag", "--http"},
                          {"target", "https://api.example.com/x?sessionid=Sess1on99"},
                          {"status", "error"},
                          {"message", "GET https://api.example.com/x?sessionid=Sess1on99 timed out"},
                          {"snapshot", nlohmann::json::object()}});
  std::string path = write_temp("targets.evidence.json", ev.dump());
  std::string out = all_outputs({"--replay", path});
  for (const char* secret : {"Hunter2pw", "Hunter2ssl", "Sess1on99"})
    CHECK(out.find(secret) == std::string::npos);

  auto report =
      nlohmann::json::parse(run({chokepoint_bin(), "diagnose", "--replay",
                                 fixture_path("postgres/missing_index.evidence.json"), "--format", "json"})
                                .out);
  report["findings"][0]["title"] =
      std::string(report["findings"][0]["title"]) + " see https://x/?token=Tok3nTok3n";
  std::string saved = write_temp("report.json", report.dump());
  auto c = run({chokepoint_bin(), "compare", saved, saved});
  CHECK(c.out.find("Tok3nTok3n") == std::string::npos);
}
