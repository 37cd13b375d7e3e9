// A real cgroup with a CPU quota and a busy process inside: chokepoint must see the throttling.
// Needs a writable cgroup cpu controller (v1 /sys/fs/cgroup/cpu, or v2 with the cpu controller);
// without one the test says why and exits 77, which CTest reports as skipped, not passed.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "harness.hpp"

using namespace cp::test;
namespace fs = std::filesystem;

namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

struct TestCgroup {
  std::string dir;
  bool v2 = false;
  bool set_quota(double cores) const {
    if (v2)
      return write_file(dir + "/cpu.max", cores > 0
                                              ? std::to_string(static_cast<int>(cores * 100000)) + " 100000"
                                              : "max 100000");
    return write_file(dir + "/cpu.cfs_period_us", "100000") &&
           write_file(dir + "/cpu.cfs_quota_us",
                      cores > 0 ? std::to_string(static_cast<int>(cores * 100000)) : "-1");
  }
  ~TestCgroup() {
    if (!dir.empty()) ::rmdir(dir.c_str());
  }
};

[[noreturn]] void skip(const std::string& why) {
  std::cout << "SKIPPED: " << why << std::endl;
  std::_Exit(77);
}

TestCgroup make_cgroup() {
  std::string name = "chokepoint-test-" + std::to_string(::getpid());
  TestCgroup cg;
  if (fs::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
    cg.dir = "/sys/fs/cgroup/cpu/" + name;
  } else if (fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    std::ifstream in("/sys/fs/cgroup/cgroup.controllers");
    std::string controllers((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (controllers.find("cpu") == std::string::npos) skip("cgroup v2 without the cpu controller");
    write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpu");
    cg.dir = "/sys/fs/cgroup/" + name;
    cg.v2 = true;
  } else {
    skip("no cgroup cpu controller is mounted");
  }
  if (::mkdir(cg.dir.c_str(), 0755) != 0) {
    std::string err = std::strerror(errno);
    cg.dir.clear();
    skip("cannot create a cgroup (" + err + "): not root, or the controller is read-only");
  }
  return cg;
}

}  // namespace

TEST_CASE(
    "a busy process capped at 0.2 CPU: infrastructure, infra.cpu_throttling, ratio > 0.5, uncapped: no "
    "limit") {
  TestCgroup cg = make_cgroup();
  REQUIRE(cg.set_quota(0.2));
  Background busy({"sh", "-c", "echo $$ > " + cg.dir + "/cgroup.procs && exec sh -c 'while :; do :; done'"});
  std::string pid;
  for (int i = 0; i < 50 && pid.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pid = read_first_line(cg.dir + "/cgroup.procs");
  }
  REQUIRE_FALSE(pid.empty());

  auto r = diagnose_json({"--pid", pid, "--window", "6"});
  CHECK(r.schema_errors.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.report["verdict"]["category"] == "infrastructure");
  auto throttling = findings_of(r.report, "infra.cpu_throttling");
  REQUIRE(throttling.size() == 1);
  CHECK(throttling[0]["evidence"]["throttled_ratio"].get<double>() > 0.5);
  CHECK(throttling[0]["evidence"]["limit_cores"].get<double>() == doctest::Approx(0.2));
  CHECK(throttling[0]["evidence"]["usage_cores"].get<double>() < 0.3);

  REQUIRE(cg.set_quota(0));
  auto free = diagnose_json({"--pid", pid, "--window", "3"});
  CHECK(free.schema_errors.empty());
  CHECK(findings_of(free.report, "infra.cpu_throttling").empty());
  bool said_no_limit = false;
  for (const auto& note : free.report["probes"][0]["notes"])
    said_no_limit = said_no_limit || note.get<std::string>().find("no limit") != std::string::npos;
  CHECK(said_no_limit);
}
