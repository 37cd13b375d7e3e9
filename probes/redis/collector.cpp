#include "probes/redis/collector.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "probes/redis/snapshot.hpp"
#include "probes/redis/url.hpp"
#include "util/redact.hpp"
#include "util/self.hpp"
#include "util/stats.hpp"

namespace cp::redis {

namespace {

using Clock = std::chrono::steady_clock;

struct RedisError {
  std::string message;
};

using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

class Connection {
 public:
  Connection(const RedisUrl& u, int timeout_ms) : ctx_(nullptr, redisFree) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ctx_.reset(redisConnectWithTimeout(u.host.c_str(), u.port, tv));
    if (!ctx_) throw RedisError{"cannot allocate a Redis connection"};
    if (ctx_->err) throw RedisError{ctx_->errstr};
    redisSetTimeout(ctx_.get(), tv);
  }

  // A command with arguments passed as they are (never formatted into a string).
  ReplyPtr run(std::initializer_list<std::string> args) {
    if (tally_) ++sent_[commandstats_name(args)];
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r) throw RedisError{ctx_->errstr[0] ? ctx_->errstr : "connection lost"};
    return ReplyPtr(r, freeReplyObject);
  }

  // The commands sent from now on, until the tally is taken: what INFO's counters will include.
  void start_tally() {
    sent_.clear();
    tally_ = true;
  }
  std::map<std::string, double> take_tally() {
    tally_ = false;
    return std::move(sent_);
  }

 private:
  // INFO commandstats' name: "ping"; a container's subcommand as Redis 7 counts it, "slowlog|get".
  static std::string commandstats_name(std::initializer_list<std::string> args) {
    std::string name;
    for (const auto& a : args) {
      if (!name.empty()) name += '|';
      for (char ch : a) name += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (name != "client" && name != "slowlog" && name != "config" && name != "latency") break;
    }
    return name;
  }

  std::unique_ptr<redisContext, decltype(&redisFree)> ctx_;
  bool tally_ = false;
  std::map<std::string, double> sent_;
};

std::string as_text(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
             ? std::string(r->str, r->len)
             : "";
}

std::map<std::string, std::string> parse_info(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    // Paths of the server's machine (its binary, its config file) stay there: evidence travels.
    if (key == "executable" || key == "config_file") continue;
    out[key] = line.substr(colon + 1);
  }
  return out;
}

std::map<std::string, std::string> read_info(Connection& c) {
  // "INFO everything" (Redis 7) includes latencystats; older servers answer an error: plain INFO.
  auto r = c.run({"INFO", "everything"});
  if (r->type == REDIS_REPLY_ERROR && as_text(r.get()).rfind("NOAUTH", 0) != 0) r = c.run({"INFO"});
  if (r->type == REDIS_REPLY_ERROR) {
    std::string err = as_text(r.get());
    if (err.rfind("NOAUTH", 0) == 0)
      throw RedisError{
          "authentication required: put the password (and ACL user) in the URL, "
          "redis://user:password@host:port"};
    if (err.rfind("NOPERM", 0) == 0)
      throw RedisError{"this ACL user may not run INFO: grant it +info (or +@slow) — " + err};
    throw RedisError{"INFO refused: " + err};
  }
  return parse_info(as_text(r.get()));
}

// Entries: [id, unix time, duration µs, [command, args…], client address, client name] (the last two
// since Redis 4). Only the command's name is kept; chokepoint's own entries are counted apart.
long long read_slowlog(Connection& c, long long after_id, std::vector<SlowEntry>* out,
                       double* own = nullptr) {
  auto r = c.run({"SLOWLOG", "GET", "128"});
  if (r->type != REDIS_REPLY_ARRAY) throw RedisError{as_text(r.get())};
  long long max_id = after_id;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 4) continue;
    long long id = e->element[0]->integer;
    max_id = std::max(max_id, id);
    if (!out || id <= after_id) continue;
    if (e->elements >= 6 && as_text(e->element[5]) == kSelfName) {
      if (own) *own += 1;
      continue;
    }
    const redisReply* args = e->element[3];
    std::string command =
        args->type == REDIS_REPLY_ARRAY && args->elements > 0 ? as_text(args->element[0]) : "?";
    for (auto& ch : command) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out->push_back({command, static_cast<double>(e->element[2]->integer)});
  }
  return max_id;
}

std::string connect_message(const std::string& err, const RedisUrl& u, const std::string& where) {
  if (err.find("refused") != std::string::npos)
    return fmt::format("{}: connection refused — is Redis listening on {}:{} (bind, port)?", where, u.host,
                       u.port);
  if (err.find("Name or service not known") != std::string::npos ||
      err.find("nodename nor servname") != std::string::npos ||
      err.find("Temporary failure in name resolution") != std::string::npos)
    return fmt::format("{}: DNS lookup of {} failed", where, u.host);
  if (err.find("timed out") != std::string::npos ||
      err.find("Resource temporarily unavailable") != std::string::npos)
    return fmt::format("{}: no answer from {}:{} (timed out)", where, u.host, u.port);
  return fmt::format("{}: {}", where, err);
}

// AUTH and SELECT as the URL asks; the authentication failure said for the user (empty: none).
std::string authenticate_and_select(Connection& c, const RedisUrl& url, const std::string& where) {
  if (!url.password.empty()) {
    auto r = url.user.empty() ? c.run({"AUTH", url.password}) : c.run({"AUTH", url.user, url.password});
    if (r->type == REDIS_REPLY_ERROR)
      return fmt::format("{}: authentication failed: {} — check the user and password in the URL", where,
                         as_text(r.get()));
  }
  if (url.db != 0) {
    auto r = c.run({"SELECT", std::to_string(url.db)});
    if (r->type == REDIS_REPLY_ERROR)
      throw RedisError{"SELECT " + std::to_string(url.db) + ": " + as_text(r.get())};
  }
  return "";
}

// INFO and the slow log at both ends of the window, PINGs timed through it. The commands sent
// between the two INFOs (the first one included) are tallied: the deltas count them.
void read_window(Connection& c, const CollectContext& ctx, Snapshot& snap) {
  bool cumulative = ctx.cumulative();
  auto started = Clock::now();
  if (!cumulative) c.start_tally();  // cumulative: tallied since connecting
  snap.info_start = cumulative ? std::map<std::string, std::string>{} : read_info(c);
  snap.version = (cumulative ? read_info(c) : snap.info_start)["redis_version"];
  long long slow_after = -1;
  try {
    slow_after = cumulative ? -1 : read_slowlog(c, -1, nullptr);
  } catch (const RedisError&) {
    snap.slowlog_available = false;  // renamed or forbidden by ACL
  }
  Histogram ping;
  sample_through_window(ctx, interval_option(ctx, "redis", "ping_interval_ms", 10), [&](double) {
    auto t0 = Clock::now();
    c.run({"PING"});
    ping.add(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  });
  snap.own_commands = c.take_tally();  // INFO counts a command once it has run: not this one
  snap.info_end = read_info(c);
  snap.window_s = ctx.measured_window(started);
  if (snap.slowlog_available) {
    try {
      read_slowlog(c, slow_after, &snap.slowlog, &snap.own_slow_entries);
    } catch (const RedisError&) {
      snap.slowlog_available = false;
    }
  }
  snap.ping_count = static_cast<double>(ping.count());
  snap.ping_p50_ms = ping.percentile(50);
  snap.ping_p99_ms = ping.percentile(99);
  snap.ping_max_ms = ping.max();
}

// chokepoint's connections (named by CLIENT SETNAME): this one, another run's. CLIENT LIST may be
// forbidden (ACL): then this connection only.
double count_own_clients(Connection& c) {
  auto r = c.run({"CLIENT", "LIST"});
  if (r->type != REDIS_REPLY_STRING) return 1;
  std::istringstream in(as_text(r.get()));
  double own = 0;
  std::string name_field = " name=" + std::string(kSelfName) + " ";
  for (std::string line; std::getline(in, line);)
    if ((" " + line + " ").find(name_field) != std::string::npos) own += 1;
  return std::max(own, 1.0);
}

// The settings the rules read, and LATENCY LATEST; managed services may forbid CONFIG.
void read_settings(Connection& c, Snapshot& snap) {
  for (const char* key : {"maxclients", "maxmemory", "maxmemory-policy", "slowlog-log-slower-than"}) {
    auto r = c.run({"CONFIG", "GET", key});
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
      snap.config[key] = as_text(r->element[1]);
    } else if (r->type == REDIS_REPLY_ERROR) {
      snap.config_error = as_text(r.get());  // not fatal: managed services forbid CONFIG
      break;
    }
  }
  auto lat = c.run({"LATENCY", "LATEST"});
  if (lat->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < lat->elements; ++i) {
      const redisReply* e = lat->element[i];
      if (e->type == REDIS_REPLY_ARRAY && e->elements >= 4)
        snap.latency.push_back({as_text(e->element[0]), static_cast<double>(e->element[2]->integer),
                                static_cast<double>(e->element[3]->integer)});
    }
}

}  // namespace

Collected collect(const Target& target, const CollectContext& ctx) {
  std::string error;
  auto url = parse_redis_url(target.spec(), error);
  if (!url) return {ProbeStatus::error, target.name + ": " + error, {}};
  int timeout_ms = static_cast<int>(ctx.option("redis", "timeout_ms"));
  Snapshot snap;
  snap.db = url->db;
  try {
    std::unique_ptr<Connection> c;
    try {
      c = std::make_unique<Connection>(*url, timeout_ms);
    } catch (const RedisError& e) {
      return {ProbeStatus::error, scrub(connect_message(e.message, *url, target.name), target.secrets), {}};
    }
    if (ctx.cumulative()) c->start_tally();  // every command so far is in the cumulative counters
    if (auto refused = authenticate_and_select(*c, *url, target.name); !refused.empty())
      return {ProbeStatus::error, scrub(refused, target.secrets), {}};
    // Named, so its clients and slow-log entries can be told apart (and left out) by any run.
    auto named = c->run({"CLIENT", "SETNAME", std::string(kSelfName)});
    if (named->type == REDIS_REPLY_ERROR) snap.client_name_error = as_text(named.get());
    read_window(*c, ctx, snap);
    snap.own_clients = count_own_clients(*c);
    read_settings(*c, snap);
  } catch (const RedisError& e) {
    return {ProbeStatus::error, scrub(target.name + ": " + e.message, target.secrets), {}};
  }
  return {ProbeStatus::ok, "", snap};
}

}  // namespace cp::redis
