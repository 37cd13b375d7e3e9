// [[acknowledge]] in chokepoint.toml: acknowledged findings stay in the report with their reason and
// do not count toward the gate; expired ones count again; one that matches nothing is reported;
// compare honours them.
#include <doctest/doctest.h>

#include <fstream>

#include "core/config.hpp"
#include "core/diagnose.hpp"
#include "core/error.hpp"
#include "core/gate.hpp"
#include "harness.hpp"
#include "json_schema.hpp"

using namespace cp;

namespace {

Report n_plus_one_run() {
  return judge_evidence(evidence_from_json(test::fixture("postgres/n_plus_one.evidence.json")), {});
}

const Finding& first_of(const Report& r, const std::string& rule) {
  for (const auto& f : r.findings)
    if (f.rule == rule) return f;
  FAIL("no finding of " << rule);
  throw std::logic_error("unreachable");
}

Report gated_with_config(const std::string& toml, const std::string& today = "2026-11-30") {
  Settings s = parse_config(toml, "test.toml");
  Report r = n_plus_one_run();
  GateOptions g;
  g.fail_on = Severity::medium;
  g.acknowledgements = s.acknowledgements;
  g.today = today;
  apply_gate(r, g);
  return r;
}

}  // namespace

TEST_CASE("[[acknowledge]] parses by id or by rule + match, with a reason and an optional date") {
  Settings s = parse_config(
      "[[acknowledge]]\nid = \"0123456789abcdef0123456789abcdef\"\nreason = \"known, ticket PERF-12\"\n"
      "until = 2027-01-31\n"
      "[[acknowledge]]\nrule = \"db.n_plus_one\"\nmatch = { query = \"SELECT * FROM order_items*\", calls = "
      "5000 }\n"
      "reason = \"batched in the next release\"\nuntil = \"2026-12-31\"\n",
      "t.toml");
  REQUIRE(s.acknowledgements.size() == 2);
  CHECK(*s.acknowledgements[0].id == "0123456789abcdef0123456789abcdef");
  CHECK(*s.acknowledgements[0].until == "2027-01-31");
  CHECK(*s.acknowledgements[1].rule == "db.n_plus_one");
  CHECK(s.acknowledgements[1].match.at("calls") == "5000");
  CHECK(*s.acknowledgements[1].until == "2026-12-31");

  struct Bad {
    const char* toml;
    const char* says;
  };
  for (const Bad& b : {
           Bad{"[[acknowledge]]\nreason = \"x\"\n", "either `id` or `rule`"},
           Bad{"[[acknowledge]]\nid = \"0123456789abcdef0123456789abcdef\"\nrule = \"db.n_plus_one\"\nreason "
               "= \"x\"\n",
               "either `id` or `rule`"},
           Bad{"[[acknowledge]]\nrule = \"db.n_plus_one\"\n", "`reason` is required"},
           Bad{"[[acknowledge]]\nrule = \"db.n_plus_on\"\nreason = \"x\"\n", "did you mean db.n_plus_one"},
           Bad{"[[acknowledge]]\nid = \"nothex\"\nreason = \"x\"\n", "32 hex digits"},
           Bad{"[[acknowledge]]\nrule = \"db.n_plus_one\"\nreason = \"x\"\nuntil = \"2026-02-30\"\n",
               "calendar"},
           Bad{"[[acknowledge]]\nrule = \"db.n_plus_one\"\nreason = \"x\"\nuntil = \"soon\"\n", "a date"},
           Bad{"[[acknowledge]]\nrule = \"db.n_plus_one\"\nreason = \"x\"\nowner = \"me\"\n", "unknown key"},
           Bad{"[[acknowledge]]\nid = \"0123456789abcdef0123456789abcdef\"\nreason = \"x\"\nmatch = { a = "
               "\"b\" }\n",
               "`match` goes with `rule`"},
           Bad{"acknowledge = 3\n", "[[acknowledge]]"},
       }) {
    CAPTURE(b.toml);
    try {
      parse_config(b.toml, "t.toml");
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(b.says) != std::string::npos, e.what());
    }
  }
}

TEST_CASE("an acknowledged finding stays in the report with its reason and does not fail the gate") {
  Report plain = gated_with_config("");
  const Finding& n1 = first_of(plain, "db.n_plus_one");
  REQUIRE(n1.fails_gate);

  Report by_id = gated_with_config("[[acknowledge]]\nid = \"" + n1.id +
                                   "\"\nreason = \"PERF-12: batched next sprint\"\n");
  const Finding& acked = first_of(by_id, "db.n_plus_one");
  REQUIRE(acked.acknowledgement);
  CHECK(acked.acknowledgement->reason == "PERF-12: batched next sprint");
  CHECK(!acked.acknowledgement->expired);
  CHECK(!acked.fails_gate);
  CHECK(by_id.findings.size() == plain.findings.size());
  REQUIRE(by_id.gate.acknowledgements.size() == 1);
  CHECK(by_id.gate.acknowledgements[0].findings == std::vector<std::string>{n1.id});

  // By rule and evidence (a glob on the query); a non-matching value acknowledges nothing.
  std::string query = n1.evidence.at("query").get<std::string>();
  std::string prefix = query.substr(0, 20);
  Report by_match = gated_with_config("[[acknowledge]]\nrule = \"db.n_plus_one\"\nmatch = { query = \"" +
                                      prefix + "*\" }\nreason = \"r\"\n");
  CHECK(!first_of(by_match, "db.n_plus_one").fails_gate);
  Report other = gated_with_config(
      "[[acknowledge]]\nrule = \"db.n_plus_one\"\nmatch = { query = \"UPDATE*\" }\nreason = \"r\"\n");
  CHECK(first_of(other, "db.n_plus_one").fails_gate);
  CHECK(other.gate.acknowledgements[0].findings.empty());
  CHECK(other.gate.status == "fail");
}

TEST_CASE("an expired acknowledgement counts again and the gate says so") {
  Report plain = gated_with_config("");
  std::string id = first_of(plain, "db.n_plus_one").id;
  std::string toml = "[[acknowledge]]\nid = \"" + id + "\"\nreason = \"r\"\nuntil = 2026-11-29\n";
  Report expired = gated_with_config(toml, "2026-11-30");
  const Finding& f = first_of(expired, "db.n_plus_one");
  REQUIRE(f.acknowledgement);
  CHECK(f.acknowledgement->expired);
  CHECK(f.fails_gate);
  bool said = false;
  for (const auto& r : expired.gate.reasons)
    said = said || r.find("acknowledgement expired on 2026-11-29") == 0;
  CHECK(said);
  CHECK(expired.gate.acknowledgements[0].expired);
  // The last day still holds.
  CHECK(!first_of(gated_with_config(toml, "2026-11-29"), "db.n_plus_one").fails_gate);
}

TEST_CASE("CLI: diagnose and compare honour acknowledgements, the JSON report and text show them") {
  auto bin = test::chokepoint_bin();
  std::string evidence = test::fixture_path("postgres/n_plus_one.evidence.json");
  auto plain = test::diagnose_json({"--replay", evidence, "--fail-on", "medium"});
  REQUIRE(plain.exit_code == 1);
  std::string config = test::temp_path("ack.toml");
  {
    std::ofstream out(config);
    for (const auto& f : plain.report["findings"])
      if (f["fails_gate"] == true)
        out << "[[acknowledge]]\nid = \"" << f["id"].get<std::string>()
            << "\"\nreason = \"accepted for the demo\"\n";
    out << "[[acknowledge]]\nrule = \"db.missing_index\"\nmatch = { table = \"no_such_table\" }\nreason = "
           "\"typo\"\n";
  }
  auto acked = test::diagnose_json({"--replay", evidence, "--fail-on", "medium", "--config", config});
  CHECK(acked.exit_code == 0);
  CHECK(acked.schema_errors.empty());
  CHECK(acked.report["findings"].size() == plain.report["findings"].size());
  for (const auto& f : acked.report["findings"])
    if (!f["acknowledgement"].is_null()) CHECK(f["acknowledgement"]["reason"] == "accepted for the demo");
  const auto& acks = acked.report["gate"]["acknowledgements"];
  REQUIRE(acks.size() >= 2);
  CHECK(acks.back()["findings"].empty());
  CHECK(acked.stderr_text.find("[[acknowledge]] rule db.missing_index matches no finding") !=
        std::string::npos);

  auto text = test::run({bin, "diagnose", "--replay", evidence, "--fail-on", "medium", "--config", config});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("[acknowledged]") != std::string::npos);
  CHECK(text.out.find("acknowledged: accepted for the demo") != std::string::npos);
  CHECK(text.out.find("matches no finding") != std::string::npos);

  // compare: the same report gated against an empty baseline fails, and passes with the config.
  std::string base = test::temp_path("healthy.json"), current = test::temp_path("current.json");
  REQUIRE(test::run({bin, "diagnose", "--replay", test::fixture_path("postgres/healthy.evidence.json"),
                     "--format", "json", "--output", base})
              .exit_code == 0);
  REQUIRE(
      test::run({bin, "diagnose", "--replay", evidence, "--format", "json", "--output", current}).exit_code ==
      0);
  CHECK(test::run({bin, "compare", base, current, "--fail-on", "medium"}).exit_code == 1);
  auto cmp = test::run(
      {bin, "compare", base, current, "--fail-on", "medium", "--config", config, "--format", "json"});
  CHECK(cmp.exit_code == 0);
  auto doc = nlohmann::ordered_json::parse(cmp.out);
  CHECK(test::report_schema().validate(doc).empty());
  bool any = false;
  for (const auto& f : doc["findings"]) any = any || !f["acknowledgement"].is_null();
  CHECK(any);

  // SARIF: an acknowledged finding is a suppressed note with the reason.
  auto sarif = test::run({bin, "diagnose", "--replay", evidence, "--fail-on", "medium", "--config", config,
                          "--format", "sarif"});
  auto s = nlohmann::ordered_json::parse(sarif.out);
  CHECK(test::sarif_schema().validate(s).empty());
  bool suppressed = false;
  for (const auto& r : s["runs"][0]["results"])
    if (r.contains("suppressions")) {
      suppressed = true;
      CHECK(r["level"] == "note");
      CHECK(r["suppressions"][0]["justification"] == "accepted for the demo");
    }
  CHECK(suppressed);
}
