// Helpers for tests that run the real binary and real servers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp::test {

inline constexpr int kWindowS = 5;  // the live tests' sampling window (seconds)

std::string source_dir();
std::string chokepoint_bin();

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs a program (no shell) and collects its output.
RunResult run(const std::vector<std::string>& argv, const std::string& input = "");

// A process running while a test measures something; killed (SIGTERM) when it goes out of scope.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& log_path = "/dev/null");
  ~Background();
  int wait();  // exit code (128 + N when ended by signal N)
  int pid() const { return pid_; }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  int pid_ = -1;
};

// The addresses written by tests/tools/services.sh (CHOKEPOINT_TEST_SERVICES/env).
const std::map<std::string, std::string>& services();
std::string service(const std::string& key);  // throws when the services fixture did not provide it

// `chokepoint diagnose ARGS --format json`: the parsed report, checked against the shipped schema.
struct ReportRun {
  int exit_code = -1;
  nlohmann::ordered_json report;
  std::string stderr_text, stdout_text;
  std::vector<std::string> schema_errors;
};
ReportRun diagnose_json(std::vector<std::string> args);

// Findings of one rule.
std::vector<nlohmann::ordered_json> findings_of(const nlohmann::ordered_json& report,
                                                const std::string& rule);

std::string temp_path(const std::string& name);
std::string fixture_path(const std::string& relative);  // source_dir()/tests/fixtures/relative
std::string slurp(const std::string& path);             // a file's whole text ("" when unreadable)
int free_port();  // a free loopback port (bound and released: a server takes it a moment later)
std::string write_temp(
    const std::string& name,
    const std::string& content);  // temp_path(name), written  // a fresh path in a per-process temp dir

}  // namespace cp::test

namespace cp::test {
// tests/fixtures/<relative>, parsed.
nlohmann::json fixture(const std::string& relative);
}  // namespace cp::test
