#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "json_schema.hpp"

extern char** environ;

namespace cp::test {

std::string source_dir() {
  return CHOKEPOINT_SOURCE_DIR;
}
std::string chokepoint_bin() {
  return CHOKEPOINT_BIN;
}

namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&fa, fd);
  pid_t pid;
  auto args = c_argv(argv);
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  signal(SIGPIPE, SIG_IGN);
  if (!input.empty()) (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = exit_code_of(status);
  return r;
}

Background::Background(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  auto args = c_argv(argv);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  pid_ = pid;
}

int Background::wait() {
  if (pid_ < 0) return -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return exit_code_of(status);
}

Background::~Background() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    wait();
  }
}

const std::map<std::string, std::string>& services() {
  static const std::map<std::string, std::string> env = [] {
    std::map<std::string, std::string> out;
    const char* dir = std::getenv("CHOKEPOINT_TEST_SERVICES");
    if (!dir) return out;
    std::ifstream in(std::string(dir) + "/env");
    for (std::string line; std::getline(in, line);) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
        value = value.substr(1, value.size() - 2);
      out[line.substr(0, eq)] = value;
    }
    return out;
  }();
  return env;
}

std::string service(const std::string& key) {
  auto it = services().find(key);
  if (it == services().end())
    throw std::runtime_error(
        "service " + key +
        " is not running: these tests need the ctest fixture that runs tests/tools/services.sh");
  return it->second;
}

ReportRun diagnose_json(std::vector<std::string> args) {
  args.insert(args.begin(), {chokepoint_bin(), "diagnose"});
  args.insert(args.end(), {"--format", "json"});
  RunResult r = run(args);
  ReportRun out;
  out.exit_code = r.exit_code;
  out.stderr_text = r.err;
  out.stdout_text = r.out;
  out.report = nlohmann::ordered_json::parse(r.out, nullptr, false);
  if (out.report.is_discarded()) {
    out.schema_errors.push_back("stdout is not JSON: " + r.out.substr(0, 200) + " / stderr: " + r.err);
    out.report = nullptr;
  } else {
    out.schema_errors = report_schema().validate(out.report);
  }
  return out;
}

std::vector<nlohmann::ordered_json> findings_of(const nlohmann::ordered_json& report,
                                                const std::string& rule) {
  std::vector<nlohmann::ordered_json> out;
  if (!report.is_object()) return out;
  for (const auto& f : report["findings"])
    if (f["rule"] == rule) out.push_back(f);
  return out;
}

std::string temp_path(const std::string& name) {
  static const std::string dir = [] {
    std::string tmpl = "/tmp/chokepoint-test-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
  }();
  static int counter = 0;
  return dir + "/" + std::to_string(++counter) + "-" + name;
}

}  // namespace cp::test

namespace cp::test {
nlohmann::json fixture(const std::string& relative) {
  std::ifstream in(source_dir() + "/tests/fixtures/" + relative);
  if (!in) throw std::runtime_error("missing fixture tests/fixtures/" + relative);
  return nlohmann::json::parse(in);
}

std::string fixture_path(const std::string& rel) {
  return source_dir() + "/tests/fixtures/" + rel;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = temp_path(name);
  std::ofstream(path) << content;
  return path;
}

}  // namespace cp::test
