#include "probes/prometheus/instances.hpp"

#include <cstdlib>
#include <initializer_list>

#include <fmt/format.h>

#include "probes/prometheus/queries.hpp"

namespace cp::prom {

std::string instance_key(const std::string& family, const std::map<std::string, std::string>& labels) {
  std::string key;
  const FamilySpec* f = find_family(family);
  if (!f) return key;
  for (auto k : f->keys) {
    auto it = labels.find(std::string(k));
    key += (key.empty() ? "" : "\x1f") + (it == labels.end() ? std::string() : it->second);
  }
  return key;
}

std::string instance_id(const std::string& family, const std::map<std::string, std::string>& labels) {
  auto label = [&](const char* k) {
    auto it = labels.find(k);
    return it == labels.end() ? std::string() : it->second;
  };
  if (family != "container") return label("instance");
  std::string id = label("namespace") + "/" + label("pod");
  return label("container").empty() ? id : id + "/" + label("container");
}

std::string instance_name(const std::string& family, const std::map<std::string, std::string>& labels) {
  std::string word = family == "container" ? "pod" : family == "host" ? "node" : family;
  return word + " " + instance_id(family, labels);
}

Results::Results(const Snapshot& snap) {
  for (const auto& q : snap.queries) {
    if (q.status != "ok") continue;
    auto& samples = by_query_[q.id];
    std::string family(family_of(q.id));
    for (const auto& s : q.result) samples.emplace(instance_key(family, s.labels), &s);
  }
}

bool Results::has(const std::string& id) const {
  return by_query_.count(id) > 0;
}

std::optional<double> Results::value(const std::string& id, const std::string& key) const {
  auto q = by_query_.find(id);
  if (q == by_query_.end()) return std::nullopt;
  auto it = q->second.find(key);
  if (it == q->second.end()) return std::nullopt;
  return it->second->value;
}

std::optional<double> Results::value(const std::string& id, const std::string& key, const std::string& label,
                                     const std::string& label_value) const {
  std::optional<double> sum;
  for (const Sample* s : samples(id, key)) {
    auto it = s->labels.find(label);
    if (it != s->labels.end() && it->second == label_value) sum = sum.value_or(0) + s->value;
  }
  return sum;
}

std::vector<const Sample*> Results::samples(const std::string& id, const std::string& key) const {
  std::vector<const Sample*> out;
  auto q = by_query_.find(id);
  if (q == by_query_.end()) return out;
  auto [from, to] = q->second.equal_range(key);
  for (auto it = from; it != to; ++it) out.push_back(it->second);
  return out;
}

std::map<std::string, std::map<std::string, std::string>> Results::instances(const std::string& family) const {
  std::map<std::string, std::map<std::string, std::string>> out;
  const FamilySpec* f = find_family(family);
  if (!f) return out;
  // The instances the family's presence signal names: a blackbox module that is not HTTP, a pod-level
  // series without a container, are not instances of the family.
  auto q = by_query_.find(std::string(f->presence));
  if (q == by_query_.end()) return out;
  for (const auto& [key, s] : q->second) {
    if (out.count(key)) continue;
    std::map<std::string, std::string> labels;
    for (auto k : f->keys)
      if (auto it = s->labels.find(std::string(k)); it != s->labels.end()) labels.emplace(it->first, it->second);
    out.emplace(key, std::move(labels));
  }
  return out;
}

namespace {

void put(std::map<std::string, double>& m, const std::string& name, std::optional<double> v, double scale = 1) {
  if (v) m[name] = *v * scale;
}

// Each (snapshot name, query id) pair's value for the instance, where the query has one.
void put_all(std::map<std::string, double>& m, const Results& r, const std::string& key,
             std::initializer_list<std::pair<const char*, const char*>> fields) {
  for (auto [name, id] : fields) put(m, name, r.value(id, key));
}

void put_pressure(host::Snapshot& s, const std::string& name, std::optional<double> v) {
  if (v) s.pressure_avg10[name] = *v;
}

// pg_stat_statements through the exporter: the statements' numbers, not their text (the exporter
// has only the queryid).
void add_statements(const Results& r, const std::string& key, pg::Snapshot& s) {
  auto statement_key = [](const Sample& x) {
    auto get = [&](const char* k) { return x.labels.count(k) ? x.labels.at(k) : std::string(); };
    return get("datname") + "/" + get("queryid");
  };
  std::map<std::string, double> calls, rows;
  for (const Sample* x : r.samples("postgres.statement_calls", key)) calls[statement_key(*x)] = x->value;
  for (const Sample* x : r.samples("postgres.statement_rows", key)) rows[statement_key(*x)] = x->value;
  for (const Sample* x : r.samples("postgres.statement_seconds", key)) {
    std::string id = statement_key(*x);
    if (calls[id] < 1 || x->value <= 0) continue;
    pg::Statement st;
    std::string queryid = x->labels.count("queryid") ? x->labels.at("queryid") : "0";
    st.queryid = std::strtoll(queryid.c_str(), nullptr, 10);
    st.query = fmt::format("queryid {} in {} (its text: pg_stat_statements on the server, or --postgres)", queryid,
                           x->labels.count("datname") ? x->labels.at("datname") : "?");
    st.calls = calls[id];
    st.rows = rows[id];
    st.total_exec_ms = x->value * 1000;
    s.statements.push_back(std::move(st));
  }
}

}  // namespace

host::Snapshot container_snapshot(const Results& r, const std::string& key, const std::string& id,
                                  double range_s) {
  host::Snapshot s;
  s.target = "pod";
  s.cgroup_path = id;  // "shop/checkout-7d9f8-abcde/app"
  s.hostname = s.cgroup_path;
  s.cgroup_version = "cAdvisor";
  s.window_s = range_s;
  auto quota = r.value("container.cpu_quota", key), period = r.value("container.cpu_period", key);
  if (quota && *quota > 0) {
    s.cpu_limit = {"limited", *quota, period && *period > 0 ? *period : 100000, "container_spec_cpu_quota"};
  } else if (quota) {
    s.cpu_limit = {"no_limit", std::nullopt, 100000, "container_spec_cpu_quota is unset"};
  } else {
    s.cpu_limit.source = r.has("container.cpu_quota") ? "no container_spec_cpu_quota for this container"
                                                      : "no container_spec_cpu_quota series";
  }
  put(s.cgroup_end, "nr_periods", r.value("container.cpu_periods", key));
  put(s.cgroup_end, "nr_throttled", r.value("container.cpu_throttled_periods", key));
  put(s.cgroup_end, "throttled_usec", r.value("container.cpu_throttled_seconds", key), 1e6);
  put(s.cgroup_end, "usage_usec", r.value("container.cpu_usage_seconds", key), 1e6);
  // cAdvisor's own OOM counter when it is there, else kube-state-metrics' OOM-killed restarts.
  auto ooms = r.value("container.oom_events", key);
  if (!ooms || *ooms <= 0) ooms = r.value("container.oom_restarts", key).value_or(ooms.value_or(0));
  put(s.cgroup_end, "oom_kill", ooms);
  auto limit = r.value("container.memory_limit", key);
  if (limit && *limit > 0) s.memory_limit_bytes = *limit;
  s.memory_usage_bytes = r.value("container.memory_working_set", key).value_or(0);
  put_pressure(s, "cgroup.cpu.some", r.value("container.cpu_pressure", key));
  put_pressure(s, "cgroup.memory.some", r.value("container.memory_pressure", key));
  put_pressure(s, "cgroup.memory.full", r.value("container.memory_pressure_full", key));
  return s;
}

host::Snapshot node_snapshot(const Results& r, const std::string& key, const std::string& id, double range_s) {
  host::Snapshot s;
  s.target = "node";
  s.hostname = id;
  s.window_s = range_s;
  s.cpus = r.value("host.cpus", key).value_or(0);
  s.ticks_per_s = 100;
  for (const Sample* sample : r.samples("host.cpu_seconds", key))
    if (auto mode = sample->labels.find("mode"); mode != sample->labels.end())
      s.host_end["cpu_" + mode->second] += sample->value * s.ticks_per_s;
  if (auto running = r.value("host.procs_running", key)) s.run_queue = {*running};
  put_all(s.host_end, r, key,
          {{"TcpExtListenDrops", "host.listen_drops"},
           {"TcpExtListenOverflows", "host.listen_overflows"},
           {"TcpRetransSegs", "host.retrans_segs"},
           {"TcpOutSegs", "host.out_segs"},
           {"vm_oom_kill", "host.oom_kill"},
           {"vm_pswpin", "host.swap_in"},
           {"vm_pswpout", "host.swap_out"}});
  put_pressure(s, "host.cpu.some", r.value("host.cpu_pressure", key));
  put_pressure(s, "host.memory.some", r.value("host.memory_pressure", key));
  put_pressure(s, "host.memory.full", r.value("host.memory_pressure_full", key));
  return s;
}

pg::Snapshot postgres_snapshot(const Results& r, const std::string& key, const std::string& id,
                               double range_s) {
  pg::Snapshot s;
  s.database = id;
  s.window_s = range_s;
  s.hypopg = true;  // not asked: no index is suggested from exporter metrics
  auto setting = [&](const char* id, const char* setting) {
    if (auto v = r.value(id, key)) s.settings[setting] = fmt::format("{}", *v);
  };
  setting("postgres.max_connections", "max_connections");
  setting("postgres.reserved_connections", "superuser_reserved_connections");
  put_all(s.database_end, r, key,
          {{"xact_commit", "postgres.xact_commit"},
           {"xact_rollback", "postgres.xact_rollback"},
           {"blks_hit", "postgres.blks_hit"},
           {"blks_read", "postgres.blks_read"},
           {"deadlocks", "postgres.deadlocks"},
           {"sessions", "postgres.sessions_opened"}});
  add_statements(r, key, s);
  if (!r.has("postgres.sessions")) return s;
  // One sample: each state's peak over the window (the exporter's counts are per database and state).
  pg::ActivitySample peak;
  for (const Sample* sample : r.samples("postgres.sessions", key)) {
    auto state = sample->labels.count("state") ? sample->labels.at("state") : "";
    int n = static_cast<int>(sample->value + 0.5);
    peak.total += n;
    if (state == "active") peak.active += n;
    if (state == "idle") peak.idle += n;
    if (state.rfind("idle in transaction", 0) == 0) peak.idle_in_transaction += n;
  }
  // Sessions idle in a transaction: the exporter gives their count and the oldest transaction's age.
  double age = std::max(r.value("postgres.max_tx_duration", key, "state", "idle in transaction").value_or(0),
                        r.value("postgres.max_tx_duration", key, "state", "idle in transaction (aborted)")
                            .value_or(0));
  for (int i = 0; i < peak.idle_in_transaction; ++i) {
    pg::Session ses;
    ses.pid = i + 1;
    ses.state = "idle in transaction";
    ses.xact_age_s = ses.state_age_s = age;
    peak.sessions.push_back(std::move(ses));
  }
  s.activity.push_back(std::move(peak));
  return s;
}

redis::Snapshot redis_snapshot(const Results& r, const std::string& key, double range_s) {
  redis::Snapshot s;
  s.window_s = range_s;
  s.slowlog_available = false;
  auto put_info = [&](const char* id, const char* info) {
    if (auto v = r.value(id, key)) s.info_end[info] = fmt::format("{}", *v);
  };
  put_info("redis.hits", "keyspace_hits");
  put_info("redis.misses", "keyspace_misses");
  put_info("redis.evicted_keys", "evicted_keys");
  put_info("redis.rejected_connections", "rejected_connections");
  put_info("redis.commands", "total_commands_processed");
  put_info("redis.connected_clients", "connected_clients");
  put_info("redis.blocked_clients", "blocked_clients");
  put_info("redis.maxclients", "maxclients");
  put_info("redis.fragmentation", "mem_fragmentation_ratio");
  put_info("redis.used_memory", "used_memory");
  put_info("redis.used_memory_rss", "used_memory_rss");
  put_info("redis.maxmemory", "maxmemory");
  return s;
}

}  // namespace cp::prom
