// The README's GitHub Actions recipe (between <!-- ci-recipe:start/end -->), run as GitHub would run
// its shell steps: chokepoint listens with the OTLP receiver, the load test exports to it, the run
// gates, and the SARIF is rendered from the saved evidence. The build step and the `uses:` actions are
// skipped; the application is a stand-in that exports what a service would (the N+1 fixture).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "harness.hpp"
#include "json_schema.hpp"

using namespace cp::test;
using ojson = nlohmann::ordered_json;

namespace {

struct Step {
  std::string name, run;
  bool always = false;
};

struct Recipe {
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Step> steps;
};

size_t indent_of(const std::string& line) {
  return line.find_first_not_of(' ') == std::string::npos ? std::string::npos : line.find_first_not_of(' ');
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// The workflow's job env and steps (the subset of YAML the recipe uses: block scalars for `run`).
Recipe parse_recipe(const std::string& readme) {
  auto start = readme.find("<!-- ci-recipe:start -->"), end = readme.find("<!-- ci-recipe:end -->");
  REQUIRE_MESSAGE(start != std::string::npos, "README.md has no ci-recipe block");
  REQUIRE(end > start);
  std::istringstream in(readme.substr(start, end - start));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  Recipe r;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l == "    env:") {
      for (++i; i < lines.size() && indent_of(lines[i]) == 6 && lines[i].find(": ") != std::string::npos;
           ++i) {
        auto colon = lines[i].find(": ");
        r.env.emplace_back(lines[i].substr(6, colon - 6), unquote(lines[i].substr(colon + 2)));
      }
      --i;
    } else if (l.rfind("      - ", 0) == 0) {
      r.steps.push_back({});
      if (l.rfind("      - name: ", 0) == 0) r.steps.back().name = l.substr(14);
      if (l.rfind("      - uses: ", 0) == 0) r.steps.back().name = "uses " + l.substr(14);
    } else if (!r.steps.empty() && l == "        if: always()") {
      r.steps.back().always = true;
    } else if (!r.steps.empty() && l == "        run: |") {
      for (++i; i < lines.size() && (lines[i].empty() || indent_of(lines[i]) >= 10); ++i)
        r.steps.back().run += (lines[i].size() > 10 ? lines[i].substr(10) : "") + "\n";
      --i;
    }
  }
  return r;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

void write_executable(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

}  // namespace

TEST_CASE("README CI recipe: receiver + load test + gate + SARIF, its shell steps as written") {
  Recipe recipe = parse_recipe(slurp(source_dir() + "/README.md"));
  REQUIRE(recipe.steps.size() >= 4);

  std::string dir = temp_path("ci-recipe");
  std::filesystem::create_directories(dir + "/scripts");
  std::ofstream(dir + "/chokepoint.toml") << "[probes.otlp]\nmax_body_mb = 16\n";
  // The application: a stand-in service that exports, over the protocol the recipe sets, the spans
  // an instrumented service with an N+1 would (source locations included).
  write_executable(dir + "/scripts/start-app.sh",
                   "#!/bin/sh\necho 'stand-in application: the load test replays its spans'\n");
  write_executable(
      dir + "/scripts/load-test.sh",
      fmt::format("#!/bin/sh\nexec python3 '{}/tests/tools/otlp_send.py' \"$OTEL_EXPORTER_OTLP_ENDPOINT\" "
                  "'{}/tests/fixtures/traces/otlp_n_plus_one_code.json' --protocol "
                  "\"$OTEL_EXPORTER_OTLP_PROTOCOL\" --batch 200\n",
                  source_dir(), source_dir()));

  std::vector<std::string> env = {"env"};
  for (const auto& [k, v] : recipe.env) {
    if (k == "CHOKEPOINT")
      env.push_back("CHOKEPOINT=" + chokepoint_bin());
    else if (k == "WINDOW_S")
      env.push_back("WINDOW_S=4");  // the recipe's 60 s, shortened for the test
    else
      env.push_back(k + "=" + v);
  }
  env.push_back("GITHUB_STEP_SUMMARY=" + dir + "/summary.md");
  // Another test or engineer may hold 4318: the same steps on a free port.
  std::string port = std::to_string(free_port());

  bool failed = false;
  std::map<std::string, int> exit_codes;
  for (const Step& step : recipe.steps) {
    if (step.run.empty() || step.name == "Build chokepoint") continue;  // `uses:` actions, the build
    if (failed && !step.always) continue;
    std::string script = replace_all(replace_all(step.run, "127.0.0.1:4318", "127.0.0.1:" + port),
                                     "/127.0.0.1/4318", "/127.0.0.1/" + port);
    std::vector<std::string> argv = env;
    argv.insert(argv.end(),
                {"bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", "cd '" + dir + "'\n" + script});
    RunResult r = run(argv);
    MESSAGE(step.name << " -> exit " << r.exit_code << "\n" << r.out << r.err);
    exit_codes[step.name] = r.exit_code;
    failed = failed || r.exit_code != 0;
  }

  // The gate step failed the job on the N+1 (critical), and the report came from the receiver.
  std::string gate_step = "Load test, spans exported straight to chokepoint (the gate)";
  REQUIRE(exit_codes.count(gate_step));
  CHECK(exit_codes[gate_step] == 1);
  ojson report = ojson::parse(slurp(dir + "/chokepoint.json"), nullptr, false);
  REQUIRE(!report.is_discarded());
  CHECK(report_schema().validate(report).empty());
  CHECK(report["probes"][0]["name"] == "otlp");
  CHECK(report["gate"]["status"] == "fail");
  CHECK(findings_of(report, "db.n_plus_one").size() == 2);

  // The always() step still ran: SARIF valid, the N+1 on its source line; the summary written.
  ojson sarif = ojson::parse(slurp(dir + "/chokepoint.sarif"), nullptr, false);
  REQUIRE(!sarif.is_discarded());
  auto errors = sarif_schema().validate(sarif);
  CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors.front()));
  bool annotated = false;
  for (const auto& r : sarif["runs"][0]["results"]) {
    if (r["ruleId"] != "db.n_plus_one" || !r["locations"][0].contains("physicalLocation")) continue;
    const auto& loc = r["locations"][0]["physicalLocation"];
    annotated = annotated || (loc["artifactLocation"]["uri"] == "src/routes/orders.js" &&
                              loc["region"]["startLine"] == 42);
  }
  CHECK(annotated);
  CHECK(slurp(dir + "/summary.md").find("## chokepoint: database") != std::string::npos);
}
