#include "probes/host/cgroup.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace cp::host {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join_path(const std::string& a, const std::string& b) {
  if (b.empty() || b == "/") return a;
  if (!a.empty() && a.back() == '/') return a + (b.front() == '/' ? b.substr(1) : b);
  return a + (b.front() == '/' ? b : "/" + b);
}

// `path` inside a hierarchy mounted with `root`: "/" when they are the same (a container sees its
// own cgroup as the mount's root).
std::optional<std::string> relative_to_root(const std::string& path, const std::string& root) {
  if (root == "/" || root.empty()) return path;
  if (path == root) return std::string("/");
  if (path.rfind(root + "/", 0) == 0) return path.substr(root.size());
  return std::nullopt;
}

const CgroupMount* v1_mount(const std::vector<CgroupMount>& mounts, const std::string& controller) {
  for (const auto& m : mounts)
    if (!m.v2 && has(m.controllers, controller)) return &m;
  return nullptr;
}

const CgroupMount* v2_mount(const std::vector<CgroupMount>& mounts) {
  for (const auto& m : mounts)
    if (m.v2) return &m;
  return nullptr;
}

}  // namespace

std::vector<CgroupLine> parse_proc_cgroup(const std::string& text) {
  std::vector<CgroupLine> out;
  for (const auto& line : split(text, '\n')) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    CgroupLine l;
    l.id = std::atoi(line.substr(0, first).c_str());
    for (const auto& c : split(line.substr(first + 1, second - first - 1), ','))
      if (!c.empty()) l.controllers.push_back(c.rfind("name=", 0) == 0 ? c.substr(5) : c);
    l.path = line.substr(second + 1);
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<CgroupMount> parse_mountinfo(const std::string& text) {
  std::vector<CgroupMount> out;
  for (const auto& line : split(text, '\n')) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string w; in >> w;) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 3 > f.end()) continue;
    std::string fstype = *(dash + 1);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.root = f[3];
    m.mount_point = f[4];
    m.v2 = fstype == "cgroup2";
    if (!m.v2)
      for (const auto& o : split(*(dash + 3), ','))
        if (o != "rw" && o != "ro" && o.find('=') == std::string::npos) m.controllers.push_back(o);
    out.push_back(std::move(m));
  }
  return out;
}

CgroupDirs resolve_cgroup(const std::vector<CgroupLine>& lines, const std::vector<CgroupMount>& mounts) {
  CgroupDirs d;
  bool any_v1 = false;
  std::string cpu_path, cpuacct_path;
  for (const char* controller : {"cpu", "cpuacct", "memory"}) {
    const CgroupMount* m = v1_mount(mounts, controller);
    if (!m) continue;
    for (const auto& l : lines) {
      if (!has(l.controllers, controller)) continue;
      auto rel = relative_to_root(l.path, m->root);
      if (!rel) continue;
      std::string dir = join_path(m->mount_point, *rel);
      any_v1 = true;
      if (std::string(controller) == "cpu") {
        d.cpu = dir;
        cpu_path = l.path;
      }
      if (std::string(controller) == "cpuacct") {
        d.cpuacct = dir;
        cpuacct_path = l.path;
      }
      if (std::string(controller) == "memory") d.memory = dir;
      if (d.path.empty()) d.path = l.path;
    }
  }
  if (const CgroupMount* m = v2_mount(mounts)) {
    for (const auto& l : lines) {
      if (l.id != 0 || !l.controllers.empty()) continue;
      auto rel = relative_to_root(l.path, m->root);
      if (!rel) continue;
      d.unified = join_path(m->mount_point, *rel);
      d.unified_path = l.path;
      if (d.path.empty()) d.path = l.path;
    }
  }
  d.cpuacct_same_group = d.cpuacct.empty() || cpu_path == cpuacct_path;
  if (any_v1 && !d.unified.empty()) {
    d.version = "hybrid";
  } else if (any_v1) {
    d.version = "v1";
  } else if (!d.unified.empty()) {
    d.version = "v2";
    d.cpu = d.cpuacct = d.memory = d.unified;  // one directory holds every controller's files
  }
  return d;
}

std::optional<std::vector<CgroupLine>> lines_for_directory(const std::string& dir,
                                                           const std::vector<CgroupMount>& mounts) {
  for (const auto& m : mounts) {
    const std::string& mp = m.mount_point;
    if (dir != mp && dir.rfind(mp + "/", 0) != 0) continue;
    std::string rel = dir == mp ? "/" : dir.substr(mp.size());
    std::string path = m.root == "/" ? rel : join_path(m.root, rel);
    return lines_for_path(path, mounts);
  }
  return std::nullopt;
}

std::vector<CgroupLine> lines_for_path(const std::string& path, const std::vector<CgroupMount>& mounts) {
  std::vector<CgroupLine> out;
  int id = 1;
  for (const auto& m : mounts)
    out.push_back({m.v2 ? 0 : id++, m.v2 ? std::vector<std::string>{} : m.controllers, path});
  return out;
}

std::map<std::string, double> parse_flat_keyed(const std::string& text) {
  std::map<std::string, double> out;
  for (const auto& line : split(text, '\n')) {
    std::istringstream in(line);
    std::string key;
    double value;
    if (in >> key >> value) out[key] = value;
  }
  return out;
}

std::optional<Psi> parse_psi(const std::string& text) {
  Psi p;
  bool any = false;
  for (const auto& line : split(text, '\n')) {
    std::istringstream in(line);
    std::string kind, field;
    in >> kind;
    if (kind != "some" && kind != "full") continue;
    any = true;
    while (in >> field) {
      auto eq = field.find('=');
      if (eq == std::string::npos) continue;
      std::string k = field.substr(0, eq);
      double v = std::atof(field.c_str() + eq + 1);
      if (k == "avg10") (kind == "some" ? p.some_avg10 : p.full_avg10) = v;
      if (k == "total") (kind == "some" ? p.some_total_us : p.full_total_us) = v;
    }
  }
  return any ? std::optional<Psi>(p) : std::nullopt;
}

std::map<std::string, double> parse_proc_stat(const std::string& text) {
  std::map<std::string, double> out;
  static const char* kCpuFields[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
  double cpus = 0;
  for (const auto& line : split(text, '\n')) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "cpu") {
      double v;
      for (const char* f : kCpuFields)
        if (in >> v) out[std::string("cpu_") + f] = v;
    } else if (key.rfind("cpu", 0) == 0 && key.size() > 3) {
      ++cpus;
    } else if (key == "procs_running" || key == "procs_blocked" || key == "ctxt") {
      double v;
      if (in >> v) out[key] = v;
    }
  }
  out["cpus"] = cpus;
  return out;
}

std::map<std::string, double> parse_header_value_pairs(const std::string& text, const std::string& prefix) {
  std::map<std::string, double> out;
  auto lines = split(text, '\n');
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i].rfind(prefix, 0) != 0 || lines[i + 1].rfind(prefix, 0) != 0) continue;
    std::istringstream names(lines[i].substr(prefix.size())), values(lines[i + 1].substr(prefix.size()));
    std::string name;
    double value;
    while (names >> name && values >> value) out[name] = value;
    ++i;
  }
  return out;
}

}  // namespace cp::host
