#include "probes/redis/rules.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "probes/sources.hpp"
#include "util/format.hpp"
#include "util/self.hpp"

namespace cp::redis {

namespace {

// Numbers every rule needs, from the two INFO readings.
struct Load {
  const Snapshot* s;
  std::string component;  // redis:host:port/db, for people
  std::string subject;    // redis:host/db: finding ids stay stable when only the port changes
  double seconds = 0;     // the window, or the server's uptime for cumulative readings

  double end(const std::string& key) const {
    auto it = s->info_end.find(key);
    return it == s->info_end.end() ? 0 : std::atof(it->second.c_str());
  }
  double delta(const std::string& key) const {
    auto it = s->info_start.find(key);
    return std::max(0.0, end(key) - (it == s->info_start.end() ? 0 : std::atof(it->second.c_str())));
  }
  double per_s(double v) const { return seconds > 0 ? v / seconds : 0; }
  std::string config(const std::string& key, const std::string& info_key = "") const {
    if (auto it = s->config.find(key); it != s->config.end()) return it->second;
    if (auto it = s->info_end.find(info_key.empty() ? key : info_key); it != s->info_end.end())
      return it->second;
    return "";
  }
};

// "calls=12,usec=340,usec_per_call=28.33,…" (INFO commandstats): the calls.
double calls_in(const std::map<std::string, std::string>& info, const std::string& key) {
  auto it = info.find(key);
  if (it == info.end() || it->second.rfind("calls=", 0) != 0) return 0;
  return std::atof(it->second.c_str() + 6);
}

double own_calls(const Snapshot& s, std::string_view command) {
  double own = 0;
  for (const auto& [name, n] : s.own_commands)
    if (name == command || (command.find('|') == std::string_view::npos && name.size() > command.size() &&
                            name.compare(0, command.size(), command) == 0 && name[command.size()] == '|'))
      own += n;
  return own;
}

Load derive(const Snapshot& s, const std::string& target) {
  std::string host =
      target.substr(0, target.rfind(':') == std::string::npos ? target.size() : target.rfind(':'));
  Load l{&s, "redis:" + target, "redis:" + host + "/db" + std::to_string(s.db), 0};
  l.seconds = s.window_s > 0 ? s.window_s : l.end("uptime_in_seconds");
  return l;
}

std::vector<Finding> low_hit_ratio(const Load& l, const RuleParams& p) {
  double hits = l.delta("keyspace_hits"), misses = l.delta("keyspace_misses");
  double lookups = hits + misses;
  if (lookups <= 0 || l.per_s(lookups) < p["min_lookups_per_s"]) return {};
  double ratio = hits / lookups;
  if (ratio >= p["min_hit_ratio"]) return {};
  Finding f = p.make_finding(l.subject);
  f.component = l.component;
  f.severity = ratio < p["high_below_hit_ratio"] ? Severity::high : Severity::medium;
  f.title = fmt::format("Redis cache hit ratio {}: {} of lookups miss and go to the slower store",
                        percent(ratio), percent(1 - ratio));
  f.detail =
      fmt::format("{} hits and {} misses in {:.1f} s ({:.0f} lookups/s); {} keys evicted.", human_count(hits),
                  human_count(misses), l.seconds, l.per_s(lookups), human_count(l.delta("evicted_keys")));
  f.impact = {round_to(1 - ratio, 4), "lookups"};
  f.evidence = {{"hit_ratio", round_to(ratio, 4)},
                {"keyspace_hits", hits},
                {"keyspace_misses", misses},
                {"lookups_per_s", round_to(l.per_s(lookups), 2)},
                {"evicted_keys", l.delta("evicted_keys")},
                {"maxmemory_bytes", std::atof(l.config("maxmemory").c_str())}};
  f.remediation.summary =
      "Find why keys miss: evicted before reuse (see cache.evictions: give Redis more maxmemory), TTLs "
      "shorter "
      "than the reuse interval, keys that vary per request, or a cold cache after a deploy (warm it).";
  return {f};
}

std::vector<Finding> evictions(const Load& l, const RuleParams& p) {
  double evicted = l.delta("evicted_keys");
  if (evicted <= 0 || l.per_s(evicted) < p["min_evictions_per_s"]) return {};
  double maxmemory = std::atof(l.config("maxmemory").c_str());
  std::string policy = l.config("maxmemory-policy", "maxmemory_policy");
  Finding f = p.make_finding(l.subject + "/evictions");
  f.component = l.component;
  double writes = l.per_s(commands_processed(*l.s));
  f.severity = l.per_s(evicted) >= p["high_evictions_per_s"] ? Severity::high : Severity::medium;
  f.title =
      fmt::format("Redis evicts {:.0f} keys/s: maxmemory ({}) is too small for the working set",
                  l.per_s(evicted), maxmemory > 0 ? human_bytes(maxmemory) : std::string("not readable"));
  f.detail = fmt::format("{} keys evicted in {:.1f} s under {} ({} used of {}); {:.0f} commands/s.",
                         human_count(evicted), l.seconds, policy.empty() ? "an unknown policy" : policy,
                         human_bytes(l.end("used_memory")),
                         maxmemory > 0 ? human_bytes(maxmemory) : std::string("?"), writes);
  f.impact = {std::nullopt, "lookups"};
  f.evidence = {{"evicted_keys", evicted},
                {"evictions_per_s", round_to(l.per_s(evicted), 2)},
                {"maxmemory_bytes", maxmemory},
                {"maxmemory_policy", policy},
                {"used_memory_bytes", l.end("used_memory")}};
  f.remediation.summary =
      "Give Redis more memory (maxmemory, or a bigger instance), shorten TTLs of cold data, or "
      "store less per key; check that the eviction policy fits (allkeys-lru for a pure cache).";
  f.remediation.config =
      fmt::format("CONFIG SET maxmemory {:.0f}mb", std::max(64.0, maxmemory / 1048576 * 4));
  return {f};
}

std::vector<Finding> slow_commands(const Load& l, const RuleParams& p) {
  if (l.s->slowlog.size() < p["min_entries"]) return {};
  struct Agg {
    double count = 0, total_us = 0, max_us = 0;
  };
  std::map<std::string, Agg> by_command;
  for (const auto& e : l.s->slowlog) {
    Agg& a = by_command[e.command];
    a.count += 1;
    a.total_us += e.duration_us;
    a.max_us = std::max(a.max_us, e.duration_us);
  }
  std::vector<Finding> out;
  for (const auto& [command, a] : by_command) {
    static const char* kBlocking[] = {"KEYS", "FLUSHALL", "FLUSHDB", "SMEMBERS", "HGETALL", "LRANGE",
                                      "SORT", "SUNION",   "SINTER",  "ZRANGE",   "DEBUG"};
    bool blocking = std::find(std::begin(kBlocking), std::end(kBlocking), std::string_view(command)) !=
                    std::end(kBlocking);
    Finding f = p.make_finding(l.subject + "/" + command);
    f.component = l.component;
    f.severity = blocking || a.max_us >= p["high_duration_us"] ? Severity::high : Severity::medium;
    f.title = fmt::format(
        "Slow Redis command {}: {:.0f} call{} in the slow log, up to {} each — Redis is single-threaded, "
        "every other client waits",
        command, a.count, a.count == 1 ? "" : "s", human_ms(a.max_us / 1000));
    f.detail =
        fmt::format("{:.0f} entries, {} in total during the window (slowlog-log-slower-than {} µs).", a.count,
                    human_ms(a.total_us / 1000),
                    l.config("slowlog-log-slower-than").empty() ? "?" : l.config("slowlog-log-slower-than"));
    f.impact = {l.seconds > 0
                    ? std::optional<double>(round_to(std::min(1.0, a.total_us / 1e6 / l.seconds), 4))
                    : std::nullopt,
                "server_time"};
    f.evidence = {{"command", command},
                  {"calls", a.count},
                  {"max_ms", round_to(a.max_us / 1000, 3)},
                  {"total_ms", round_to(a.total_us / 1000, 3)}};
    f.remediation.summary =
        command == "KEYS" ? "Replace KEYS with SCAN (incremental), or keep an index set of the keys you need."
                          : "Avoid O(N) commands on large values in the request path: paginate (SCAN family, "
                            "LRANGE with small ranges), split big keys, or move the work off Redis.";
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> clients_saturation(const Load& l, const RuleParams& p) {
  double clients = connected_clients(*l.s);
  double maxclients = std::atof(l.config("maxclients").c_str());
  double rejected = l.delta("rejected_connections");
  double usage = maxclients > 0 ? clients / maxclients : 0;
  bool rejecting = rejected >= p["critical_rejected_connections"];
  if (usage < p["max_clients_usage"] && !rejecting) return {};
  Finding f = p.make_finding(l.subject + "/clients");
  f.component = l.component;
  f.severity = rejecting ? Severity::critical : Severity::high;
  f.title = rejected > 0 ? fmt::format("Redis rejected {:.0f} connections: maxclients ({:.0f}) reached",
                                       rejected, maxclients)
                         : fmt::format("Redis clients at {} of maxclients ({:.0f} of {:.0f})", percent(usage),
                                       clients, maxclients);
  f.detail = fmt::format("{:.0f} connected, {:.0f} blocked; {:.0f} connections rejected in the window.",
                         clients, l.end("blocked_clients"), rejected);
  f.impact = {round_to(std::min(usage, 1.0), 4), "connections"};
  f.evidence = {{"connected_clients", clients},
                {"maxclients", maxclients},
                {"clients_usage", round_to(usage, 4)},
                {"rejected_connections", rejected},
                {"blocked_clients", l.end("blocked_clients")}};
  f.remediation.summary =
      "Pool connections in the clients (one pool per process, not per request), close idle ones "
      "(timeout), and raise maxclients only with the file-descriptor limit.";
  return {f};
}

std::vector<Finding> memory_fragmentation(const Load& l, const RuleParams& p) {
  double used = l.end("used_memory"), rss = l.end("used_memory_rss");
  double ratio = l.end("mem_fragmentation_ratio");
  if (used < p["min_used_memory_bytes"] || ratio <= p["max_fragmentation_ratio"] ||
      rss - used < p["min_fragmentation_bytes"])
    return {};
  Finding f = p.make_finding(l.subject + "/fragmentation");
  f.component = l.component;
  f.severity = ratio >= p["medium_fragmentation_ratio"] ? Severity::medium : Severity::low;
  f.title = fmt::format("Redis memory fragmented: RSS {} for {} of data (ratio {:.2f})", human_bytes(rss),
                        human_bytes(used), ratio);
  f.detail =
      "Redis's MEMORY DOCTOR would report high fragmentation: the process holds memory its data no longer "
      "uses.";
  f.impact = {round_to(std::min(1.0, (rss - used) / rss), 4), "memory"};
  f.evidence = {
      {"mem_fragmentation_ratio", ratio}, {"used_memory_bytes", used}, {"used_memory_rss_bytes", rss}};
  f.remediation.summary =
      "Enable active defragmentation (CONFIG SET activedefrag yes, jemalloc builds) or restart "
      "the replica/primary in a maintenance window.";
  return {f};
}

// The Redis rules: declared here, judged in this order.
const std::vector<Rule<const Load>>& rule_table() {
  static const std::vector<Rule<const Load>> table = {
      {{"cache.low_hit_ratio",
        Category::database,
        "Redis misses dominate: keyspace hits / (hits + misses) over the window is low on a busy cache",
        "Find why keys miss (evicted before reuse, short TTLs, per-request keys, a cold cache after a "
        "deploy) and fix that; a cache that misses adds a round trip to every slow lookup.",
        {
            {"min_hit_ratio", 0.8, "ratio", "keyspace hit ratio of a useful cache", sources::kChokepoint},
            {"min_lookups_per_s", 10, "lookups/s", "lookups per second of a busy cache",
             sources::kChokepoint},
            {"high_below_hit_ratio", 0.5, "ratio", "hit ratio below which it is high (else medium)",
             sources::kChokepoint},
        },
        {"hit_ratio", "keyspace_hits", "keyspace_misses", "lookups_per_s", "evicted_keys",
         "maxmemory_bytes"}},
       low_hit_ratio},
      {{"cache.evictions",
        Category::database,
        "Redis evicts keys because it reached maxmemory (evicted_keys over the window)",
        "Give Redis more memory or store less; make sure the eviction policy fits the data (allkeys-lru for "
        "a pure cache, volatile-* when some keys must stay).",
        {
            {"min_evictions_per_s", 1, "keys/s", "evictions per second", sources::kChokepoint},
            {"high_evictions_per_s", 100, "keys/s",
             "evictions per second from which it is high (else medium)", sources::kChokepoint},
        },
        {"evicted_keys", "evictions_per_s", "maxmemory_bytes", "maxmemory_policy", "used_memory_bytes"}},
       evictions},
      {{"cache.slow_commands",
        Category::database,
        "commands appear in Redis's SLOWLOG during the window (slower than slowlog-log-slower-than); the "
        "command is named, never its arguments",
        "Replace O(N) commands in the request path (KEYS -> SCAN, big HGETALL/SMEMBERS/LRANGE -> paginate), "
        "split big keys; Redis runs one command at a time, so one slow command delays every client.",
        {
            {"min_entries", 1, "entries", "slow-log entries in the window",
             "Redis SLOWLOG (slowlog-log-slower-than)"},
            {"high_duration_us", 100000, "us", "duration from which a slow command is high",
             sources::kChokepoint},
        },
        {"command", "calls", "max_ms", "total_ms"}},
       slow_commands},
      {{"cache.clients_saturation",
        Category::database,
        "Redis connected clients near maxclients, or connections rejected",
        "Pool connections in the clients, close idle ones (timeout), raise maxclients together with the "
        "file-descriptor limit.",
        {
            {"max_clients_usage", 0.9, "ratio", "connected clients / maxclients", sources::kConnAlert},
            {"critical_rejected_connections", 1, "connections",
             "connections rejected at maxclients in the window: it fires and is critical",
             sources::kChokepoint},
        },
        {"connected_clients", "maxclients", "clients_usage", "rejected_connections", "blocked_clients"}},
       clients_saturation},
      {{"cache.memory_fragmentation",
        Category::database,
        "Redis's resident memory is much larger than its data (mem_fragmentation_ratio), as MEMORY DOCTOR "
        "reports",
        "Enable active defragmentation (activedefrag yes) or restart the instance in a maintenance window.",
        {
            {"max_fragmentation_ratio", 1.4, "ratio", "used_memory_rss / used_memory",
             sources::kMemoryDoctor},
            {"medium_fragmentation_ratio", 2, "ratio",
             "fragmentation ratio from which it is medium (else low)", sources::kChokepoint},
            {"min_fragmentation_bytes", 10485760, "bytes", "RSS above the data", sources::kMemoryDoctor},
            {"min_used_memory_bytes", 5242880, "bytes", "smaller instances are not judged",
             sources::kMemoryDoctor},
        },
        {"mem_fragmentation_ratio", "used_memory_bytes", "used_memory_rss_bytes"}},
       memory_fragmentation},
  };
  return table;
}

}  // namespace

double commands_processed(const Snapshot& s) {
  Load l{&s, "", "", 0};
  double own = 0;
  for (const auto& [name, n] : s.own_commands) own += n;
  return std::max(0.0, l.delta("total_commands_processed") - own);
}

double command_calls(const Snapshot& s, std::string_view command) {
  std::string key = "cmdstat_" + std::string(command);
  double start = s.window_s > 0 ? calls_in(s.info_start, key) : 0;
  return std::max(0.0, calls_in(s.info_end, key) - start - own_calls(s, command));
}

double connected_clients(const Snapshot& s) {
  Load l{&s, "", "", 0};
  return std::max(0.0, l.end("connected_clients") - s.own_clients);
}

namespace {

// A commandstats field ("usec=…") of one command, 0 when absent.
double stat_field(const std::map<std::string, std::string>& info, const std::string& key, std::string_view field) {
  auto it = info.find(key);
  if (it == info.end()) return 0;
  std::string needle = std::string(field) + "=";
  size_t at = it->second.find(needle);
  if (at == std::string::npos || (at > 0 && it->second[at - 1] != ',')) return 0;
  return std::atof(it->second.c_str() + at + needle.size());
}

// Each command's calls and time in the window as the server measured them (INFO commandstats), for
// client spans of the same commands to be set beside (src/core/reconcile.cpp). chokepoint's own
// commands (PING, INFO, SLOWLOG, CLIENT) are not the application's and are left out.
void add_crosscheck(const Snapshot& s, Judgement& j) {
  if (s.window_s <= 0) return;
  for (const auto& [key, value] : s.info_end) {
    if (key.rfind("cmdstat_", 0) != 0) continue;
    std::string command = key.substr(8);
    if (own_calls(s, command) > 0) continue;
    double calls = calls_in(s.info_end, key) - calls_in(s.info_start, key);
    double usec = stat_field(s.info_end, key, "usec") - stat_field(s.info_start, key, "usec");
    if (calls > 0 && usec >= 0) j.crosscheck.statements.push_back({"redis", command, calls, usec / 1000, true, {}});
  }
}

// What chokepoint left out of the readings: its commands, its connections, its slow-log entries.
void add_own_load_note(const Snapshot& s, Judgement& j) {
  double own = 0;
  for (const auto& [name, n] : s.own_commands) own += n;
  if (own > 0 || s.own_clients > 0)
    j.notes.push_back(fmt::format(
        "chokepoint's own load left out: {:.0f} commands it sent during the window (PING, INFO, SLOWLOG), "
        "{:.0f} connections named {}{}",
        own, s.own_clients, kSelfName,
        s.own_slow_entries > 0 ? fmt::format(", {:.0f} of its SLOWLOG entries", s.own_slow_entries) : ""));
  if (!s.client_name_error.empty())
    j.notes.push_back("CLIENT SETNAME refused (" + s.client_name_error +
                      "): this connection is left out by count only");
}

}  // namespace

RuleDeclarations rule_declarations() {
  return declarations(rule_table(), {
                                        {"redis.ping_p99_ms", +1, 1},
                                        {"redis.hit_ratio", -1, 0.02},
                                        {"redis.evictions_per_s", +1, 1},
                                    });
}

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  Judgement j;
  std::string name =
      target.name.substr(target.name.find("://") == std::string::npos ? 0 : target.name.find("://") + 3);
  if (auto at = name.rfind('@'); at != std::string::npos) name = name.substr(at + 1);
  Load l = derive(s, name);
  judge_rules(j, settings, rule_table(), l);

  std::map<std::string, std::string> labels = {{"target", target.name}};
  double hits = l.delta("keyspace_hits"), misses = l.delta("keyspace_misses");
  CacheLoad cache{target.name,
                  l.component,
                  std::nullopt,
                  l.delta("evicted_keys"),
                  l.per_s(commands_processed(s)),
                  l.end("used_memory"),
                  l.end("maxmemory")};
  if (hits + misses > 0) cache.hit_ratio = hits / (hits + misses);
  j.levers.redis.push_back(std::move(cache));
  if (hits + misses > 0)
    j.metrics.push_back({"redis.hit_ratio", round_to(hits / (hits + misses), 4), "ratio", labels});
  j.metrics.push_back(
      {"redis.commands_per_s", round_to(l.per_s(commands_processed(s)), 2), "commands/s", labels});
  j.metrics.push_back(
      {"redis.evictions_per_s", round_to(l.per_s(l.delta("evicted_keys")), 2), "keys/s", labels});
  j.metrics.push_back({"redis.connected_clients", connected_clients(s), "clients", labels});
  j.metrics.push_back({"redis.used_memory_bytes", l.end("used_memory"), "bytes", labels});
  if (s.ping_count > 0) {
    j.metrics.push_back({"redis.ping_p50_ms", round_to(s.ping_p50_ms, 3), "ms", labels});
    j.metrics.push_back({"redis.ping_p99_ms", round_to(s.ping_p99_ms, 3), "ms", labels});
  }
  j.notes.push_back(fmt::format("Redis {}, db {}; PING round trip p50 {} / p99 {} over {:.0f} pings",
                                s.version, s.db, human_ms(s.ping_p50_ms), human_ms(s.ping_p99_ms),
                                s.ping_count));
  if (!s.config_error.empty())
    j.notes.push_back("CONFIG GET refused (" + s.config_error +
                      "): limits are read from INFO where it has them");
  if (!s.slowlog_available)
    j.notes.push_back("SLOWLOG is not available to this user: slow commands are not judged");
  add_own_load_note(s, j);
  add_crosscheck(s, j);
  for (const auto& e : s.latency)
    j.notes.push_back(
        fmt::format("LATENCY LATEST {}: latest {:.0f} ms, max {:.0f} ms", e.event, e.latest_ms, e.max_ms));
  return j;
}

}  // namespace cp::redis
