#include "util/cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace cp {

std::pair<std::optional<double>, double> parse_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  double period = 100000;
  in >> quota >> period;
  if (quota == "max" || quota.empty()) return {std::nullopt, period};
  return {std::atof(quota.c_str()), period};
}

namespace {

std::optional<std::string> first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// The tightest cpu.max quota from this process' cgroup (v2) up to the root, in CPUs.
std::optional<double> cgroup_cpus() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  if (path.empty()) return std::nullopt;
  std::optional<double> cpus;
  for (;;) {
    if (auto max = first_line("/sys/fs/cgroup" + (path == "/" ? std::string() : path) + "/cpu.max")) {
      auto [quota, period] = parse_cpu_max(*max);
      if (quota && period > 0) cpus = std::min(cpus.value_or(*quota / period), *quota / period);
    }
    if (path == "/" || path.empty()) break;
    path = path.substr(0, path.rfind('/'));
    if (path.empty()) path = "/";
  }
  return cpus;
}

}  // namespace

unsigned usable_cpus() {
  unsigned n = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = std::max(1, CPU_COUNT(&set));
  if (auto quota = cgroup_cpus()) n = std::min(n, static_cast<unsigned>(std::max(1.0, std::ceil(*quota))));
  return n;
}

}  // namespace cp
