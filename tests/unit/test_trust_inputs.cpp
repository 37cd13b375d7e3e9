// Issue #11, inputs that crashed or misled: limits on every JSON and TOML input, evidence without its
// measurements, impossible numbers, a trace file truncated while mapped, stdin twice, signals, and
// the small ones (window syntax, output paths, stdout errors, threshold sources).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/config.hpp"
#include "core/error.hpp"
#include "harness.hpp"
#include "probes/probe.hpp"
#include "probes/traces/readers.hpp"
#include "render/render.hpp"

using namespace cp::test;

// This file's names (json is nlohmann::json here) stay in it when a unity build compiles it
// together with other tests.
namespace test_trust_inputs {

using nlohmann::json;

namespace {

std::string nested(const std::string& open, const std::string& close, size_t depth) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += open;
  s += "1";
  for (size_t i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

TEST_CASE("60k nested levels in a report or evidence: a clear error, exit 2 for baselines, 3 for evidence") {
  auto report = json::parse(run({chokepoint_bin(), "diagnose", "--replay",
                                 fixture_path("postgres/healthy.evidence.json"), "--format", "json"})
                                .out);
  std::string text = report.dump();
  text.replace(text.find("\"run\":{") + 7, 0, "\"deep\":" + nested("[", "]", 60000) + ",");
  std::string deep_report = write_temp("deep-report.json", text);
  auto c = run({chokepoint_bin(), "compare", deep_report, deep_report});
  CHECK(c.exit_code == 2);
  CHECK(c.err.find("deeper than") != std::string::npos);
  auto b = run({chokepoint_bin(), "diagnose", "--replay", fixture_path("postgres/healthy.evidence.json"),
                "--baseline", deep_report});
  CHECK(b.exit_code == 2);
  CHECK(b.err.find("deeper than") != std::string::npos);

  std::string ev = slurp(fixture_path("postgres/healthy.evidence.json"));
  ev.replace(ev.find('{') + 1, 0, "\"deep\":" + nested("{\"a\":", "}", 60000) + ",");
  auto r = run({chokepoint_bin(), "diagnose", "--replay", write_temp("deep.evidence.json", ev)});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("deeper than") != std::string::npos);

  // A structurally wrong document is an error too, never an internal one.
  auto wrong = run(
      {chokepoint_bin(), "diagnose", "--replay",
       write_temp("wrong.evidence.json", R"({"format":"chokepoint-evidence","version":1,"probes":[5]})")});
  CHECK(wrong.exit_code == 3);
  CHECK(wrong.err.find("internal error") == std::string::npos);
}

TEST_CASE("TOML nested beyond reason or too large: exit 2 with a message") {
  for (const std::string& toml :
       {"a = " + nested("[", "]", 60000) + "\n", "a = " + nested("{b=", "}", 60000) + "\n",
        "# " + std::string(2u << 20, 'x') + "\n"}) {
    auto r = run({chokepoint_bin(), "diagnose", "--replay", fixture_path("postgres/healthy.evidence.json"),
                  "--config", write_temp("deep.toml", toml)});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("config") != std::string::npos);
  }
}

TEST_CASE(
    "non-ASCII in chokepoint.toml: a message with line:column or the same value, never toml++'s "
    "unreachable") {
  // libFuzzer's finds (fuzz_config_reader) and toml++ issue #295: toml++ 3.3.0 tests these code points
  // against a whitespace table that ends in `unreachable`, even inside a string after an invalid value.
  const std::pair<std::string, std::string> refused[] = {
      {"[rules.\"cache.memory_fragmentation\"]\nmax_fr_\xc3\x94_top = 20\n",
       "2:8: a non-ASCII character outside a string or comment"},
      {"\xcc\xaa", "1:1: a non-ASCII character outside a string or comment"},
      {"s = \"\"\"\nme\\\\\\\xef\xba\xbf\"\"\"\n",
       "2:6: a non-ASCII character after a backslash (not a TOML escape)"},
      {"s = \"a\xff\"\n", "1:7: not UTF-8"},
      {"# \xe2\x82\n", "1:3: not UTF-8"},
      {std::string("cn=+ks.[\0bbbbbprobeBb.b\0bquermen*resq.\"\xef\xba\xbf"
                   "emyo_r\1\0.",
                   50),
       ""},
  };
  for (const auto& [toml, message] : refused) {
    CAPTURE(message);
    try {
      cp::parse_config(toml, "chokepoint.toml");
      FAIL("accepted");
    } catch (const cp::UsageError& e) {
      CHECK(std::string(e.what()).find("config chokepoint.toml:" + message) == 0);
    }
  }
  // In strings and comments non-ASCII is TOML and keeps its value, whatever the kind of string;
  // the second is toml++ issue #190 (a line-ending backslash before a non-ASCII character).
  auto s = cp::parse_config(
      "# Lagerbestände prüfen\n[gate]\nfail_on = \"high\" # höher\n"
      "[[acknowledge]]\nrule = \"db.slow_query\"\nreason = \"\"\"\\\n  § Lagerbestände\"\"\"\n"
      "[[acknowledge]]\nrule = \"db.n_plus_one\"\nreason = 'C:\\tmp \"ü\" \xe2\x80\x83'\n"
      "[[acknowledge]]\nrule = \"db.missing_index\"\nreason = '''\n''é'''''\n",
      "chokepoint.toml");
  CHECK(s.gate.fail_on == "high");
  REQUIRE(s.acknowledgements.size() == 3);
  CHECK(s.acknowledgements[0].reason == "§ Lagerbestände");
  CHECK(s.acknowledgements[1].reason == "C:\\tmp \"ü\" \xe2\x80\x83");
  CHECK(s.acknowledgements[2].reason == "''é''");
}

TEST_CASE("a saved report whose unexamined category gives no reason renders in every format") {
  // libFuzzer's find (fuzz_report_readers): the text renderer cut the reason's indent off an empty string.
  cp::Report r;
  r.ranking.push_back({cp::Category::database, 1, true, {}, ""});
  r.ranking.push_back({cp::Category::code, 0, false, {}, ""});
  for (auto f : {cp::Format::text, cp::Format::json, cp::Format::markdown, cp::Format::junit,
                 cp::Format::prometheus, cp::Format::sarif, cp::Format::html}) {
    std::string out;
    CHECK_NOTHROW(out = cp::render(r, f, {}));
    CHECK_FALSE(out.empty());
  }
  CHECK(cp::render(r, cp::Format::text, {}).find("NOT EXAMINED\n  code           \n") != std::string::npos);
}

TEST_CASE("evidence whose measurements were removed: exit 3 naming what is missing") {
  for (const char* section : {"statements", "tables"}) {
    auto ev = fixture("postgres/missing_index.evidence.json");
    ev["probes"][0]["snapshot"].erase(section);
    auto r = run({chokepoint_bin(), "diagnose", "--replay", write_temp("cut.evidence.json", ev.dump())});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(std::string("snapshot.") + section) != std::string::npos);
    CHECK(r.out.empty());
  }
  auto ev = fixture("postgres/missing_index.evidence.json");
  ev["probes"][0].erase("snapshot");
  auto r = run({chokepoint_bin(), "diagnose", "--replay", write_temp("nosnap.evidence.json", ev.dump())});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("snapshot") != std::string::npos);
}

TEST_CASE("NaN, infinities, negatives and out-of-range numbers are refused naming the key") {
  struct Case {
    std::string toml, key;
  };
  for (const Case& c : std::vector<Case>{
           {"[rules.\"db.missing_index\"]\nmin_table_rows = nan\n", "min_table_rows"},
           {"[rules.\"db.missing_index\"]\nmax_selectivity = 7.5\n", "max_selectivity"},
           {"[rules.\"db.slow_query\"]\nmin_mean_ms = -3\n", "min_mean_ms"},
           {"[rules.\"db.slow_query\"]\nmin_mean_ms = inf\n", "min_mean_ms"},
           {"[probes.postgres]\nexplain_top = -1\n", "explain_top"},
           {"[gate]\nmetric_tolerance = nan\n", "metric_tolerance"},
       }) {
    CAPTURE(c.toml);
    CHECK_THROWS_WITH_AS(cp::parse_config(c.toml, "t.toml"), doctest::Contains(c.key.c_str()),
                         cp::UsageError);
  }
  // Ratios above 1 stay allowed where the rule's own default is above 1.
  CHECK_NOTHROW(
      cp::parse_config("[rules.\"cache.memory_fragmentation\"]\nmax_fragmentation_ratio = 2.5\n", "t"));

  auto ev = fixture("postgres/missing_index.evidence.json");
  std::string text = ev.dump();
  auto at = text.find("\"calls\":");
  text.replace(at, text.find_first_of(",}", at) - at, "\"calls\":1e308");
  auto r = run({chokepoint_bin(), "diagnose", "--replay", write_temp("huge.evidence.json", text)});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("calls") != std::string::npos);
  CHECK(r.err.find("statements[") != std::string::npos);
}

TEST_CASE("a mapped trace file truncated while it is read: an error of that read, the process lives") {
  // A JSON Lines file of several pages; the first span read cuts it to nothing (copytruncate).
  std::string lines = slurp(fixture_path("traces/jsonl_code_hotspot.jsonl"));
  std::string content;
  while (content.size() < (1u << 20)) content += lines;
  std::string path = write_temp("rotating.jsonl", content);
  bool cut = false;
  std::string error;
  try {
    cp::traces::read_traces(path, [&](const cp::traces::RawSpan&) {
      if (!std::exchange(cut, true)) REQUIRE(truncate(path.c_str(), 0) == 0);
    });
  } catch (const cp::traces::ReadError& e) {
    error = e.message;
  }
  CHECK(cut);
  CHECK(error.find("shrank") != std::string::npos);
  CHECK(error.find(path) != std::string::npos);
}

TEST_CASE("--traces - given twice after a file: usage error, exit 2") {
  std::string f = fixture_path("traces/otlp_n_plus_one.json");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--traces", f, "--traces", "-", "--traces", "-"},
        {"--traces", "-", "--traces", f, "--traces", "-"},
        {"--traces", "-", "--traces", "-"}}) {
    std::vector<std::string> argv{chokepoint_bin(), "diagnose"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv, slurp(f));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("only once") != std::string::npos);
  }
}

TEST_CASE("SIGINT or SIGTERM during the window: the report of what was measured, marked, then the signal") {
  for (int sig : {SIGTERM, SIGINT}) {
    CAPTURE(sig);
    std::string out = temp_path("interrupted.json");
    auto start = std::chrono::steady_clock::now();
    Background run_(
        {chokepoint_bin(), "diagnose", "--host", "--window", "60", "--format", "json", "--output", out},
        temp_path("interrupted.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    REQUIRE(run_.pid() > 0);
    kill(run_.pid(), sig);
    int code = run_.wait();
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(code == 128 + sig);
    CHECK(took < 20);
    auto report = json::parse(slurp(out));
    CHECK(report["run"]["interrupted"] == true);
    CHECK(report["gate"]["status"] == "incomplete");
    CHECK(report["probes"][0]["status"] == "ok");
  }
}

TEST_CASE("SIGINT during an OTLP receiver's window: the receiver stops at once, not at the window's end") {
  // A loopback port nothing listens on.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::string listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  close(probe);

  std::string out = temp_path("otlp-interrupted.json");
  auto start = std::chrono::steady_clock::now();
  Background run_({chokepoint_bin(), "diagnose", "--otlp-listen", listen, "--window", "60", "--format",
                   "json", "--output", out},
                  temp_path("otlp-interrupted.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE(run_.pid() > 0);
  kill(run_.pid(), SIGINT);
  int code = run_.wait();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(code == 128 + SIGINT);
  CHECK(took < 10);  // was the whole 60 s window: the receiver's loop did not look at the signal
  auto report = json::parse(slurp(out));
  CHECK(report["run"]["interrupted"] == true);
  CHECK(report["run"]["duration_ms"].get<double>() < 10000);
}

TEST_CASE("small ones: window syntax, output paths, stdout errors, threshold sources") {
  auto bin = chokepoint_bin();
  std::string ev = fixture_path("postgres/missing_index.evidence.json");
  for (const char* w : {"", "0x10", "1e1", " 5", "inf"}) {
    CAPTURE(w);
    auto r = run({bin, "diagnose", "--postgres", "host=127.0.0.1 port=1", "--window", w});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--window") != std::string::npos);
  }
  CHECK(run({bin, "diagnose", "--replay", ev, "--window", "2.5"}).exit_code == 0);

  std::string same = temp_path("same.json");
  auto both = run({bin, "diagnose", "--replay", ev, "--output", same, "--save-evidence", same});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("same file") != std::string::npos);

  // The output path is checked before the window, not after it.
  auto start = std::chrono::steady_clock::now();
  auto bad = run({bin, "diagnose", "--host", "--window", "5", "--output", "/nonexistent-dir/report.txt"});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(bad.exit_code == 2);
  CHECK(took < 3);
  CHECK(bad.err.find("/nonexistent-dir") != std::string::npos);

  auto full = run({"sh", "-c", "\"$0\" diagnose --replay \"$1\" > /dev/full", bin, ev});
  CHECK(full.exit_code == 2);
  CHECK(full.err.find("stdout") != std::string::npos);

  std::string cfg = write_temp("threshold.toml", "[rules.\"db.missing_index\"]\nmin_table_rows = 5000\n");
  auto r = diagnose_json({"--replay", ev, "--config", cfg});
  auto findings = findings_of(r.report, "db.missing_index");
  REQUIRE_FALSE(findings.empty());
  CHECK(findings[0]["thresholds"]["min_table_rows"]["value"] == 5000);
  CHECK(findings[0]["thresholds"]["min_table_rows"]["source"].get<std::string>().find("chokepoint.toml") !=
        std::string::npos);
  CHECK(findings[0]["thresholds"]["max_selectivity"]["source"].get<std::string>().find("chokepoint.toml") ==
        std::string::npos);
}

TEST_CASE("connect samples that failed: a note says how many succeeded and why the others failed") {
  auto snapshot = fixture("postgres/no_pooling.evidence.json")["probes"][0]["snapshot"];
  const cp::ProbeKind* postgres = cp::find_probe_kind("postgres");
  REQUIRE(postgres);
  cp::Target target{"postgres", "--postgres", {}, "postgresql://app@127.0.0.1:5432/shop", {}};
  // All samples succeeded: no note.
  CHECK(postgres->judge(snapshot, target, cp::Settings{}).notes.empty());

  snapshot["connect"] = {{"connect_ms", {21.5}},
                         {"error", "FATAL:  too many connections for role \"app\""},
                         {"tcp_ms", 0.05},
                         {"tls", false}};
  auto one_of_three = postgres->judge(snapshot, target, cp::Settings{});
  REQUIRE(one_of_three.notes.size() == 1);
  CHECK(one_of_three.notes[0] ==
        "1 connect sample(s) succeeded; the others failed: FATAL:  too many connections for role \"app\"");

  snapshot["connect"]["connect_ms"] = json::array();
  auto none = postgres->judge(snapshot, target, cp::Settings{});
  REQUIRE(none.notes.size() == 1);
  CHECK(none.notes[0].rfind("0 connect sample(s) succeeded; the others failed: FATAL:", 0) == 0);

  // The note reaches the report's probe entry.
  auto ev = fixture("postgres/no_pooling.evidence.json");
  ev["probes"][0]["snapshot"]["connect"] = snapshot["connect"];
  auto r = diagnose_json({"--replay", write_temp("connect-failed.evidence.json", ev.dump())});
  CHECK(r.schema_errors.empty());
  REQUIRE(r.report["probes"][0]["notes"].size() == 1);
  CHECK(r.report["probes"][0]["notes"][0] == none.notes[0]);
}

}  // namespace test_trust_inputs
