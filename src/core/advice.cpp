#include "core/advice.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "util/format.hpp"

namespace cp {

namespace {

constexpr std::string_view kStatements = "pg_stat_statements (statement time by type, over the window)";
constexpr std::string_view kTables = "pg_stat_user_tables (row reads and writes, over the window)";
constexpr std::string_view kActivity = "pg_stat_activity (sampled through the window)";
constexpr std::string_view kDatabase = "pg_stat_database (sessions and transactions, over the window)";

// One lever being judged: its effective thresholds and a pre-filled piece of advice.
struct Lever {
  RuleParams params;
  Advice make(std::string_view lever, const std::string& component, const std::string& target) const {
    Advice a;
    a.id = std::string(params.spec().id);
    a.lever = std::string(lever);
    a.component = component;
    a.target = target;
    for (const auto& t : params.spec().thresholds)
      a.thresholds[std::string(t.name)] = {{"value", params[t.name]}, {"unit", t.unit}, {"source", t.source}};
    return a;
  }
  double operator[](std::string_view name) const { return params[name]; }
};

double clamp01(double v) {
  return std::clamp(v, 0.0, 1.0);
}

// Confidence grows with how far past its threshold a measurement is: 0.5 at the threshold, up to
// `cap` at `factor` times it.
double margin_confidence(double value, double threshold, double factor = 4, double cap = 0.9) {
  if (threshold <= 0) return cap;
  double over = std::log(std::max(value / threshold, 1.0)) / std::log(factor);
  return std::min(cap, 0.5 + (cap - 0.5) * clamp01(over));
}

double connection_usage(const PostgresLoad& pg) {
  return pg.usable_connections > 0 ? pg.connections_peak / pg.usable_connections : 0;
}

double per_s(double v, double window_s) {
  return window_s > 0 ? v / window_s : 0;
}

std::string table_name(const TableLoad& t) {
  return t.schema == "public" || t.schema.empty() ? t.name : t.schema + "." + t.name;
}

// --- verdict-level advice ----------------------------------------------------------------------

const Finding* top_finding(const Report& r) {
  if (!r.verdict.category) return nullptr;
  for (const auto& f : r.findings)
    if (f.category == *r.verdict.category) return &f;
  return nullptr;
}

std::optional<Advice> do_not_scale_out(const LeverInputs& in, const Report& r, const Lever& lv) {
  auto c = r.verdict.category;
  if (!c || (*c != Category::database && *c != Category::network)) return std::nullopt;
  if (r.verdict.confidence < lv["min_verdict_confidence"]) return std::nullopt;
  const Finding* top = top_finding(r);
  Advice a = lv.make("scale_out", top ? top->component : std::string(to_string(*c)), top ? top->target : "");
  a.evidence = {{"verdict", to_string(*c)}, {"verdict_confidence", round_to(r.verdict.confidence, 4)}};
  if (top) a.evidence["top_rule"] = top->rule;
  std::string numbers;
  for (const auto& pg : in.postgres) {
    a.evidence["connections_peak"] = pg.connections_peak;
    a.evidence["usable_connections"] = pg.usable_connections;
    a.evidence["connection_usage_ratio"] = round_to(connection_usage(pg), 4);
    a.evidence["active_sessions_avg"] = round_to(pg.active_avg, 2);
    numbers = fmt::format(
        " The database already serves {} connections of {} usable ({}), {:.1f} active on average.",
        pg.connections_peak, pg.usable_connections, percent(connection_usage(pg)), pg.active_avg);
    a.measured_by.emplace_back(kActivity);
    break;
  }
  for (const auto& pgb : in.pgbouncer) {
    a.evidence["pool_clients_waiting_peak"] = pgb.cl_waiting_peak;
    a.evidence["pool_maxwait_s"] = round_to(pgb.maxwait_s, 3);
    if (pgb.cl_waiting_peak > 0)
      numbers += fmt::format(" Up to {} clients already wait for a pooled connection (max wait {:.2f} s).",
                             pgb.cl_waiting_peak, pgb.maxwait_s);
    a.measured_by.emplace_back("PgBouncer SHOW POOLS (sampled)");
    break;
  }
  bool db = *c == Category::database;
  a.title =
      db ? "Do not add application instances: the bottleneck is the database, and more instances add "
           "connections and load to it, not capacity"
         : "Do not add application instances: the time goes to an external dependency, and more instances "
           "multiply the calls to it";
  a.detail = fmt::format("The verdict is {} ({} confidence){}.{}", to_string(*c),
                         percent(r.verdict.confidence), top ? ": " + top->title : "", numbers);
  a.expected_gain = {
      std::nullopt, "throughput",
      db ? "none from more instances; fixing the top finding is what adds capacity"
         : "none from more instances; a faster, cached or parallel dependency call is what helps"};
  a.confidence = round_to(r.verdict.confidence, 2);
  a.measured_by.emplace_back("the ranked findings (verdict)");
  return a;
}

std::optional<Advice> scale_out(const LeverInputs& in, const Report& r, const Lever& lv) {
  auto c = r.verdict.category;
  if (!c || (*c != Category::infrastructure && *c != Category::code)) return std::nullopt;
  Advice a = lv.make("scale_out", std::string(to_string(*c)), "");
  a.evidence = {{"verdict", to_string(*c)}};
  std::string why;
  bool measured_idle = false;
  for (const auto& pg : in.postgres) {
    double busy = per_s(pg.db_time_ms, pg.window_s);
    double usage = connection_usage(pg);
    if (pg.window_s <= 0 || busy > lv["max_db_time_ms_per_s"] || usage > lv["max_connection_usage"])
      return std::nullopt;  // the database is not idle: more instances would load it
    measured_idle = true;
    a.evidence["db_time_ms_per_s"] = round_to(busy, 1);
    a.evidence["connections_peak"] = pg.connections_peak;
    a.evidence["usable_connections"] = pg.usable_connections;
    a.evidence["connection_headroom"] = pg.usable_connections - pg.connections_peak;
    why = fmt::format("the database is idle ({:.0f} ms of statement time per second, {} of {} connections)",
                      busy, pg.connections_peak, pg.usable_connections);
    a.measured_by.emplace_back(kStatements);
    a.measured_by.emplace_back(kActivity);
  }
  if (!measured_idle) {
    for (const auto& t : in.traces)
      if (t.database_share && *t.database_share <= lv["max_database_share"]) {
        measured_idle = true;
        a.evidence["database_share"] = round_to(*t.database_share, 4);
        why = fmt::format("requests spend {} of their time in the database", percent(*t.database_share));
        a.measured_by.emplace_back("traces (critical-path attribution)");
      }
  }
  if (!measured_idle) return std::nullopt;
  a.title = fmt::format("Scaling out fits: the bottleneck is {} while {}", to_string(*c), why);
  a.detail = fmt::format(
      "{}. More instances (or more CPU per instance) add capacity where the time goes; each new instance "
      "opens its own connection pool, so keep their sum under max_connections.",
      r.verdict.headline);
  a.expected_gain = {std::nullopt, "throughput",
                     "throughput grows with instances until the database gets busy"};
  a.preconditions = {"the application is stateless behind the load balancer (no sticky in-memory sessions)",
                     "the sum of all instances' pools stays below the database's usable connections"};
  a.confidence = round_to(std::min(0.85, r.verdict.confidence), 2);
  a.measured_by.emplace_back("the ranked findings (verdict)");
  return a;
}

// --- connection pooling ------------------------------------------------------------------------

struct PoolPlan {
  std::string pool_mode;
  double demand = 0;  // concurrently active backends the pool must serve
  int default_pool_size = 0, reserve_pool_size = 0, max_client_conn = 0, max_db_connections = 0;
  double headroom = 0;
};

PoolPlan plan_pool(const PostgresLoad& pg, const Lever& lv) {
  PoolPlan p;
  p.pool_mode = pg.session_features.empty() ? "transaction" : "session";
  p.max_db_connections =
      static_cast<int>(std::max(1.0, std::floor(pg.usable_connections * lv["max_connections_share"])));
  // Sampling can miss short statements: the mean number executing (statement time per second) is a floor.
  p.demand = round_to(std::max(pg.active_peak, pg.window_s > 0 ? pg.db_time_ms / pg.window_s / 1000 : 0), 3);
  double wanted = std::ceil(std::max(p.demand, 1.0) * lv["pool_headroom_ratio"]);
  p.default_pool_size = static_cast<int>(std::clamp(wanted, 1.0, static_cast<double>(p.max_db_connections)));
  p.reserve_pool_size =
      static_cast<int>(std::max(1.0, std::ceil(p.default_pool_size * lv["reserve_pool_ratio"])));
  p.max_client_conn = static_cast<int>(
      std::max(lv["min_max_client_conn"], std::ceil(pg.connections_peak * lv["client_headroom_ratio"])));
  p.headroom = pg.usable_connections - p.default_pool_size - p.reserve_pool_size;
  return p;
}

std::string pool_config(const PostgresLoad& pg, const PoolPlan& p) {
  return fmt::format(
      "; pgbouncer.ini (numbers from this run)\n[databases]\n{0} = host=DB_HOST port=5432 dbname={0}\n\n"
      "[pgbouncer]\npool_mode = {1}\ndefault_pool_size = {2}\nreserve_pool_size = {3}\nmax_client_conn = "
      "{4}\n"
      "max_db_connections = {5}\nlog_connections = 0\nlog_disconnections = 0",
      pg.database, p.pool_mode, p.default_pool_size, p.reserve_pool_size, p.max_client_conn,
      p.max_db_connections);
}

std::optional<Advice> no_pooler(const PostgresLoad& pg, const Lever& lv) {
  if (pg.window_s <= 0 || pg.xacts < 20 || pg.sessions <= 0) return std::nullopt;
  double per_xact = pg.sessions / pg.xacts, rate = per_s(pg.sessions, pg.window_s);
  if (per_xact < lv["min_sessions_per_xact"] || rate < lv["min_sessions_per_s"]) return std::nullopt;
  PoolPlan p = plan_pool(pg, lv);
  Advice a = lv.make("connection_pooling", pg.component, pg.target);
  a.title = fmt::format(
      "Pool connections: {:.0f} new connections per second; a PgBouncer pool of {} ({:.1f} concurrently "
      "active backends measured) in {} mode serves them",
      rate, p.default_pool_size, p.demand, p.pool_mode);
  std::string features = pg.session_features.empty()
                             ? "No session feature (advisory locks, SET, PREPARE, LISTEN) was seen, so "
                               "transaction mode fits."
                             : fmt::format(
                                   "Session features are in use ({}): session mode, or remove them "
                                   "to use transaction mode.",
                                   fmt::join(pg.session_features, ", "));
  a.detail = fmt::format(
      "{:.2f} new sessions per transaction. default_pool_size from {:.1f} concurrently active backends "
      "(sampled peak {}, p95 {}, or statement time per second when larger); max_client_conn from the peak of "
      "{} client connections; {} of {} usable "
      "connections stay free for other clients. {}",
      per_xact, p.demand, pg.active_peak, pg.active_p95, pg.connections_peak, p.headroom,
      pg.usable_connections, features);
  std::optional<double> connect_share;
  if (pg.connect_ms && pg.db_time_ms + *pg.connect_ms * pg.sessions > 0)
    connect_share = *pg.connect_ms * pg.sessions / (*pg.connect_ms * pg.sessions + pg.db_time_ms);
  a.evidence = {{"sessions_per_s", round_to(rate, 2)},
                {"sessions_per_xact", round_to(per_xact, 3)},
                {"connect_ms", pg.connect_ms ? json(round_to(*pg.connect_ms, 3)) : json(nullptr)},
                {"active_sessions_peak", pg.active_peak},
                {"active_sessions_p95", pg.active_p95},
                {"db_time_ms_per_s", round_to(per_s(pg.db_time_ms, pg.window_s), 1)},
                {"pool_demand_sessions", round_to(p.demand, 3)},
                {"connections_peak", pg.connections_peak},
                {"usable_connections", pg.usable_connections},
                {"pool_mode", p.pool_mode},
                {"default_pool_size", p.default_pool_size},
                {"reserve_pool_size", p.reserve_pool_size},
                {"max_client_conn", p.max_client_conn},
                {"max_db_connections", p.max_db_connections},
                {"max_connections_headroom", p.headroom},
                {"session_features", pg.session_features}};
  a.expected_gain = {
      connect_share ? std::optional<double>(round_to(*connect_share, 4)) : std::nullopt,
      "connect_and_db_time",
      pg.connect_ms
          ? fmt::format("{} of connect + authentication saved per new connection ({:.0f} per second)",
                        human_ms(*pg.connect_ms), rate)
          : "connect + authentication saved on every new connection"};
  a.preconditions = {
      p.pool_mode == "transaction"
          ? "no session state across transactions (SET, advisory locks, LISTEN, WITH HOLD cursors; "
            "protocol-level prepared statements need PgBouncer >= 1.21 max_prepared_statements)"
          : "session mode pools only between sessions: drop the session features to gain more",
      "clients connect to PgBouncer instead of PostgreSQL"};
  a.config = pool_config(pg, p);
  a.confidence = round_to(
      std::min(0.9, margin_confidence(rate, lv["min_sessions_per_s"]) + (pg.connect_ms ? 0.1 : 0)), 2);
  a.measured_by = {std::string(kDatabase), std::string(kActivity), "libpq connect timing (after the window)"};
  if (!pg.session_features.empty()) a.measured_by.emplace_back(kStatements);
  return a;
}

double config_number(const BouncerLoad& b, const std::string& key) {
  auto it = b.config.find(key);
  return it == b.config.end() ? 0 : std::atof(it->second.c_str());
}

std::string config_text(const BouncerLoad& b, const std::string& key) {
  auto it = b.config.find(key);
  return it == b.config.end() ? "" : it->second;
}

std::optional<Advice> review_pgbouncer(const BouncerLoad& b, const LeverInputs& in, const Lever& lv) {
  if (b.config.empty()) return std::nullopt;
  const PostgresLoad* pg = in.postgres.empty() ? nullptr : &in.postgres.front();
  std::vector<std::string> review;
  std::string pool_mode = config_text(b, "pool_mode");
  bool session_features = pg && !pg->session_features.empty();
  if (pool_mode == "session" && b.sv_idle_avg >= lv["min_idle_servers"] && !session_features)
    review.push_back(fmt::format(
        "pool_mode = session holds {:.1f} idle server connections on average: transaction mode shares them",
        b.sv_idle_avg));
  double reserve = config_number(b, "reserve_pool_size");
  if (pg && pg->usable_connections > 0 && b.pool_size_total + reserve > pg->usable_connections)
    review.push_back(
        fmt::format("the pools add up to {} server connections (+{} reserve) but PostgreSQL allows {}",
                    b.pool_size_total, reserve, pg->usable_connections));
  if (config_text(b, "log_connections") == "1" || config_text(b, "log_connections") == "on")
    review.push_back("log_connections = 1 writes a log line for every client connection: 0 in production");
  if (review.empty()) return std::nullopt;
  Advice a = lv.make("connection_pooling", b.component, b.target);
  a.title = fmt::format("Review PgBouncer's settings: {}", review.front());
  a.detail =
      fmt::format("Live settings (SHOW CONFIG) against the measurements: {}.", fmt::join(review, "; "));
  a.evidence = {{"pool_mode", pool_mode},
                {"default_pool_size", config_number(b, "default_pool_size")},
                {"reserve_pool_size", reserve},
                {"max_client_conn", config_number(b, "max_client_conn")},
                {"log_connections", config_text(b, "log_connections")},
                {"pool_size_total", b.pool_size_total},
                {"idle_servers_avg", round_to(b.sv_idle_avg, 2)},
                {"clients_waiting_peak", b.cl_waiting_peak},
                {"usable_connections", pg ? json(pg->usable_connections) : json(nullptr)},
                {"review", review}};
  a.expected_gain = {std::nullopt, "connections",
                     "server connections and log volume matched to the measured load"};
  a.confidence = 0.7;
  a.measured_by = {"PgBouncer SHOW CONFIG", "PgBouncer SHOW POOLS (sampled)"};
  if (pg) a.measured_by.emplace_back(kActivity);
  return a;
}

// --- cache -------------------------------------------------------------------------------------

struct CacheGroup {
  std::vector<const TableLoad*> tables;
  std::vector<const ReadStatement*> reads;
  double read_ms = 0, calls = 0;
};

double writes_per_read(const TableLoad& t) {
  return t.writes() / std::max({t.scans, t.read_calls, 1.0});
}

const TableLoad* find_table(const PostgresLoad& pg, const std::string& qualified) {
  for (const auto& t : pg.tables)
    if (t.schema + "." + t.name == qualified || t.name == qualified) return &t;
  return nullptr;
}

// Read statements grouped by the tables they read, when every one of them is rarely written.
std::map<std::string, CacheGroup> cacheable_reads(const PostgresLoad& pg, const Lever& lv) {
  std::map<std::string, CacheGroup> groups;
  for (const auto& st : pg.reads) {
    if (st.tables.empty()) continue;
    std::vector<const TableLoad*> tables;
    for (const auto& name : st.tables) {
      const TableLoad* t = find_table(pg, name);
      if (!t || writes_per_read(*t) > lv["max_writes_per_read"]) {
        tables.clear();
        break;
      }
      tables.push_back(t);
    }
    if (tables.empty()) continue;
    std::string key;
    for (const auto* t : tables) key += (key.empty() ? "" : ", ") + table_name(*t);
    CacheGroup& g = groups[key];
    g.tables = tables;
    g.reads.push_back(&st);
    g.read_ms += st.total_ms;
    g.calls += st.calls;
  }
  return groups;
}

std::optional<Advice> cache_group(const PostgresLoad& pg, const std::string& key, const CacheGroup& g,
                                  const LeverInputs& in, const Lever& lv) {
  double share = pg.db_time_ms > 0 ? g.read_ms / pg.db_time_ms : 0;
  double calls_per_s = per_s(g.calls, pg.window_s);
  if (share < lv["min_db_time_share"] || calls_per_s < lv["min_calls_per_s"]) return std::nullopt;
  double writes = 0, reads = 0, bytes = 0;
  for (const auto* t : g.tables) {
    writes += t->writes();
    reads += std::max(t->scans, t->read_calls);
    bytes += t->size_bytes;
  }
  double wpr = writes / std::max(reads, 1.0);
  std::optional<double> write_interval_s;
  if (writes > 0) write_interval_s = pg.window_s / writes;
  bool in_process = bytes <= lv["max_in_process_bytes"];
  double hit = clamp01(1 - wpr);
  const CacheLoad* redis = in.redis.empty() ? nullptr : &in.redis.front();
  if (!in_process && redis && redis->hit_ratio) hit = std::min(hit, *redis->hit_ratio);
  std::vector<std::string> queries;
  for (const auto* st : g.reads) queries.push_back(one_line(st->query, 200));
  Advice a = lv.make("cache", pg.component, pg.target);
  a.title = fmt::format("Cache reads of {}: {} of database time, {:.0f} reads/s, {}", key, percent(share),
                        calls_per_s,
                        writes > 0 ? fmt::format("one row write every {:.1f} s", *write_interval_s)
                                   : fmt::format("not written once in {:.0f} s", pg.window_s));
  a.detail = fmt::format(
      "{} read statement{} over {} ({} of data) take {} in {:.0f} s while the table{} saw {} row writes "
      "({:.4f} per "
      "read). A {} cache with a TTL {} would serve them; invalidate on write.",
      g.reads.size(), g.reads.size() == 1 ? "" : "s", key, human_bytes(bytes), human_ms(g.read_ms),
      pg.window_s, g.tables.size() == 1 ? "" : "s", writes, wpr,
      in_process ? "small in-process (per instance)" : "shared (Redis)",
      write_interval_s ? fmt::format("below the write interval of {:.1f} s", *write_interval_s)
                       : fmt::format("of at least the {:.0f} s window (no write seen)", pg.window_s));
  std::vector<std::string> names;
  for (const auto* t : g.tables) names.push_back(table_name(*t));
  a.evidence = {{"tables", names},
                {"queries", queries},
                {"read_calls", g.calls},
                {"read_calls_per_s", round_to(calls_per_s, 1)},
                {"read_ms", round_to(g.read_ms, 1)},
                {"db_time_share", round_to(share, 4)},
                {"writes", writes},
                {"writes_per_read", round_to(wpr, 5)},
                {"write_interval_s", write_interval_s ? json(round_to(*write_interval_s, 2)) : json(nullptr)},
                {"ttl_bound_s", write_interval_s ? json(round_to(*write_interval_s, 2)) : json(nullptr)},
                {"table_bytes", bytes},
                {"layer", in_process ? "in-process" : "redis"},
                {"expected_hit_ratio", round_to(hit, 4)}};
  if (redis) {
    a.evidence["redis_hit_ratio"] = redis->hit_ratio ? json(round_to(*redis->hit_ratio, 4)) : json(nullptr);
    a.evidence["redis_evicted_keys"] = redis->evicted_keys;
    a.measured_by.emplace_back("Redis INFO stats (keyspace hits/misses, evicted_keys)");
  }
  a.expected_gain = {round_to(share * hit, 4), "db_time",
                     fmt::format("about {} of database time ({} of reads served from the cache)",
                                 percent(share * hit), percent(hit))};
  a.preconditions = {"the readers accept data up to one TTL old, or writes invalidate the cached entries",
                     in_process ? "a per-instance copy is fine (small, same data everywhere)"
                                : "a shared cache (Redis) reachable from every instance"};
  if (redis && redis->evicted_keys > 0)
    a.preconditions.push_back(fmt::format(
        "Redis already evicts keys ({} in the window): give it memory first", redis->evicted_keys));
  a.confidence =
      round_to(std::min(0.9, margin_confidence(share, lv["min_db_time_share"]) + (writes == 0 ? 0.1 : 0)), 2);
  a.measured_by.insert(a.measured_by.begin(), {std::string(kStatements), std::string(kTables)});
  return a;
}

std::optional<Advice> cache_from_traces(const TraceLoad& t, const Lever& lv) {
  const TraceRead* best = nullptr;
  for (const auto& r : t.repeated_reads)
    if (r.repeats_per_request >= lv["min_repeats_per_request"] && (!best || r.total_ms > best->total_ms))
      best = &r;
  if (!best) return std::nullopt;
  Advice a = lv.make("cache", "service:" + best->service, t.target);
  a.title = fmt::format("Cache a repeated read per request: {} runs {:.0f} times per {} request",
                        one_line(best->query, 80), best->repeats_per_request, best->route);
  a.detail = fmt::format(
      "In {} requests the same read ran {:.1f} times each ({} in all). A request-scoped memo (or batching "
      "the "
      "lookups) removes the repeats.",
      best->requests, best->repeats_per_request, human_ms(best->total_ms));
  a.evidence = {{"queries", {best->query}},
                {"route", best->route},
                {"requests", best->requests},
                {"repeats_per_request", round_to(best->repeats_per_request, 2)},
                {"read_ms", round_to(best->total_ms, 1)}};
  double saved = best->repeats_per_request > 0 ? 1 - 1 / best->repeats_per_request : 0;
  a.expected_gain = {
      round_to(saved, 4), "repeated_read_time",
      fmt::format("{} of this read's time (all but the first read per request)", percent(saved))};
  a.preconditions = {"the data does not change within one request"};
  a.confidence = round_to(margin_confidence(best->repeats_per_request, lv["min_repeats_per_request"]), 2);
  a.measured_by = {"traces (statements per request)"};
  return a;
}

// --- read replicas -----------------------------------------------------------------------------

std::optional<Advice> read_replicas(const PostgresLoad& pg, const Lever& lv) {
  if (pg.window_s <= 0 || pg.read_ms <= 0) return std::nullopt;
  double busy = per_s(pg.db_time_ms, pg.window_s);
  double ratio = pg.write_ms > 0 ? pg.read_ms / pg.write_ms : std::numeric_limits<double>::infinity();
  if (ratio < lv["min_read_to_write_ratio"] || busy < lv["min_db_time_ms_per_s"]) return std::nullopt;
  double read_share = pg.read_ms / std::max(pg.db_time_ms, pg.read_ms);
  // CQRS: aggregate reads over write-hot tables want a read model of their own.
  double cqrs_ms = 0;
  std::set<std::string> cqrs_tables;
  for (const auto& st : pg.reads) {
    if (!st.aggregate) continue;
    for (const auto& name : st.tables)
      if (const TableLoad* t = find_table(pg, name);
          t && writes_per_read(*t) >= lv["cqrs_min_writes_per_read"]) {
        cqrs_ms += st.total_ms;
        cqrs_tables.insert(table_name(*t));
        break;
      }
  }
  double cqrs_share = cqrs_ms / pg.read_ms;
  json top = json::array();
  for (size_t i = 0; i < std::min<size_t>(3, pg.reads.size()); ++i)
    top.push_back({{"query", one_line(pg.reads[i].query, 160)},
                   {"total_ms", round_to(pg.reads[i].total_ms, 1)},
                   {"calls", pg.reads[i].calls}});
  Advice a = lv.make("read_replicas", pg.component, pg.target);
  std::string ratio_text = std::isinf(ratio) ? "no write time" : fmt::format("{:.0f}:1", ratio);
  a.title = fmt::format("Read replicas fit: reads are {} of database time ({} reads to writes)",
                        percent(read_share), ratio_text);
  a.detail = fmt::format(
      "Statement time by type over {:.0f} s: reads {}, writes {}, other {} ({:.0f} ms/s in all). Replicas "
      "can take "
      "the reads that tolerate replication lag.{}",
      pg.window_s, human_ms(pg.read_ms), human_ms(pg.write_ms), human_ms(pg.other_ms), busy,
      cqrs_share >= lv["cqrs_min_read_share"]
          ? fmt::format(
                " {} of the read time is aggregates over write-hot tables ({}): a separate read model "
                "(CQRS: a summary table or materialized view kept up to date) fits them better than a "
                "replica.",
                percent(cqrs_share), fmt::join(cqrs_tables, ", "))
          : "");
  a.evidence = {{"read_ms", round_to(pg.read_ms, 1)},
                {"write_ms", round_to(pg.write_ms, 1)},
                {"other_ms", round_to(pg.other_ms, 1)},
                {"read_share", round_to(read_share, 4)},
                {"read_to_write_ratio", std::isinf(ratio) ? json(nullptr) : json(round_to(ratio, 2))},
                {"db_time_ms_per_s", round_to(busy, 1)},
                {"top_reads", top},
                {"cqrs_tables", std::vector<std::string>(cqrs_tables.begin(), cqrs_tables.end())},
                {"cqrs_read_share", round_to(cqrs_share, 4)}};
  a.expected_gain = {round_to(read_share, 4), "db_time",
                     fmt::format("up to {} of database time moves to replicas", percent(read_share))};
  a.preconditions = {
      "reads tolerate replication lag; read-after-write reads (a user's own fresh writes) stay on "
      "the primary",
      "the application (or a proxy) routes read-only transactions to the replicas"};
  a.confidence =
      round_to(margin_confidence(std::isinf(ratio) ? 1e9 : ratio, lv["min_read_to_write_ratio"]), 2);
  a.measured_by = {std::string(kStatements)};
  return a;
}

// --- partitioning ------------------------------------------------------------------------------

std::string partition_interval(double query_window_s, double span_s, int& partitions) {
  static const std::pair<const char*, double> kUnits[] = {
      {"1 hour", 3600}, {"1 day", 86400}, {"1 week", 604800}, {"1 month", 2629800}};
  for (const auto& [name, s] : kUnits)
    if (s >= query_window_s && span_s / s <= 1000) {
      partitions = static_cast<int>(std::ceil(span_s / s));
      return name;
    }
  partitions = static_cast<int>(std::ceil(span_s / 2629800));
  return "1 month";
}

std::string partition_sql(const TableLoad& t, const std::string& interval, bool purge) {
  std::string name = table_name(t);
  return fmt::format(
      "-- range partitioning of {0} by {1}, one partition per {2} (pg_partman can create them ahead)\n"
      "CREATE TABLE {0}_partitioned (LIKE {0} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE "
      "({1});\n"
      "CREATE TABLE {0}_p2026_01 PARTITION OF {0}_partitioned FOR VALUES FROM ('2026-01-01') TO "
      "('2026-02-01');\n"
      "-- primary keys and unique indexes must include {1}; move the rows in batches, then swap the names{3}",
      name, t.range_column, interval,
      purge ? fmt::format("\n-- the purge becomes: ALTER TABLE {0}_partitioned DETACH PARTITION {0}_p2026_01 "
                          "CONCURRENTLY; DROP TABLE {0}_p2026_01;",
                          name)
            : "");
}

std::optional<Advice> partitioning(const PostgresLoad& pg, const TableLoad& t, const Lever& lv) {
  if (t.partitioned || t.rows < lv["min_table_rows"] || t.size_bytes < lv["min_table_bytes"])
    return std::nullopt;
  if (t.inserts <= 0 || t.inserts < lv["min_insert_to_update_ratio"] * t.updates) return std::nullopt;
  if (t.range_column.empty() || t.range_read_calls < lv["min_range_read_calls"]) return std::nullopt;
  // The share of the table one range read touches: its rows, or the index rows per scan for aggregates.
  std::optional<double> read_share;
  if (!t.range_aggregate && t.range_rows_per_call > 0)
    read_share = t.range_rows_per_call / t.rows;
  else if (t.idx_scans > 0)
    read_share = t.idx_rows_fetched / t.idx_scans / t.rows;
  if (read_share) read_share = clamp01(*read_share);
  int partitions = 0;
  std::string interval = "1 month";
  if (t.time_span_s && *t.time_span_s > 0)
    interval = partition_interval(read_share.value_or(0.03) * *t.time_span_s, *t.time_span_s, partitions);
  std::optional<double> pruned;
  if (read_share) pruned = clamp01(1 - std::max(*read_share, partitions > 0 ? 1.0 / partitions : 0.0));
  Advice a = lv.make("partitioning", pg.component, pg.target);
  a.title = fmt::format("Partition {} by range of {}: {} rows, {}, appended to and read by time{}",
                        table_name(t), t.range_column, human_count(t.rows), human_bytes(t.size_bytes),
                        t.purge_query.empty() ? "" : " and purged by time");
  a.detail = fmt::format(
      "In {:.0f} s: {} inserts, {} updates, {} deletes; {} range reads on {} took {}{}. {}{}", pg.window_s,
      t.inserts, t.updates, t.deletes, t.range_read_calls, t.range_column, human_ms(t.range_read_ms),
      read_share ? fmt::format(" and touch {} of the table each", percent(*read_share)) : "",
      pruned ? fmt::format("Partitions of {} would let a query skip about {} of the rows. ", interval,
                           percent(*pruned))
             : "",
      t.purge_query.empty() ? "Old data can then go with DROP/DETACH PARTITION instead of DELETE."
                            : "The purge (" + one_line(t.purge_query, 120) +
                                  ") becomes DETACH + DROP PARTITION: no dead rows, no vacuum debt.");
  a.evidence = {{"table", table_name(t)},
                {"rows", t.rows},
                {"size_bytes", t.size_bytes},
                {"inserts", t.inserts},
                {"updates", t.updates},
                {"deletes", t.deletes},
                {"range_column", t.range_column},
                {"range_query", one_line(t.range_query, 200)},
                {"range_read_calls", t.range_read_calls},
                {"range_read_ms", round_to(t.range_read_ms, 1)},
                {"read_share_per_query", read_share ? json(round_to(*read_share, 5)) : json(nullptr)},
                {"pruned_share", pruned ? json(round_to(*pruned, 4)) : json(nullptr)},
                {"time_span_s", t.time_span_s ? json(round_to(*t.time_span_s, 0)) : json(nullptr)},
                {"partition_interval", interval},
                {"partitions", partitions > 0 ? json(partitions) : json(nullptr)},
                {"purge_query", t.purge_query.empty() ? json(nullptr) : json(one_line(t.purge_query, 200))},
                {"purge_calls", t.purge_calls}};
  a.expected_gain = {
      pruned, "rows_per_range_read",
      pruned ? fmt::format("range reads skip about {} of the rows; purges drop partitions", percent(*pruned))
             : "purges drop partitions instead of deleting rows"};
  a.preconditions = {
      fmt::format("primary keys and unique constraints include {}", t.range_column),
      fmt::format("the hot statements keep filtering on {} (others scan every partition)", t.range_column)};
  a.config = partition_sql(t, interval, !t.purge_query.empty());
  a.confidence = round_to(std::min(0.9, 0.55 + (t.purge_query.empty() ? 0 : 0.15) + (pruned ? 0.1 : 0)), 2);
  a.measured_by = {std::string(kTables), std::string(kStatements), "pg_stats (the time column's histogram)",
                   "pg_class (rows and size)"};
  return a;
}

// --- rate limiting -----------------------------------------------------------------------------

std::string client_label(const ClientLoad& c) {
  std::string who = c.usename + (c.client_addr.empty() ? "" : "@" + c.client_addr);
  return c.application_name.empty() ? who : c.application_name + " (" + who + ")";
}

std::optional<Advice> rate_limiting(const PostgresLoad& pg, const Lever& lv) {
  if (pg.clients.size() < lv["min_clients"]) return std::nullopt;
  double total = 0;
  for (const auto& c : pg.clients) total += c.active_avg;
  if (total < lv["min_active_sessions"]) return std::nullopt;
  const ClientLoad& top = pg.clients.front();  // most active first
  double share = top.active_avg / total;
  if (share < lv["min_top_client_share"]) return std::nullopt;
  int limit = static_cast<int>(std::max(1.0, std::floor(total * lv["target_client_share"])));
  json clients = json::array();
  for (size_t i = 0; i < std::min<size_t>(5, pg.clients.size()); ++i) {
    const auto& c = pg.clients[i];
    clients.push_back({{"application_name", c.application_name},
                       {"client_addr", c.client_addr},
                       {"usename", c.usename},
                       {"active_sessions_avg", round_to(c.active_avg, 2)},
                       {"sessions_avg", round_to(c.sessions_avg, 2)},
                       {"active_share", round_to(c.active_avg / total, 4)}});
  }
  Advice a = lv.make("rate_limiting", pg.component, pg.target);
  a.title = fmt::format("Limit {}: it holds {} of the active database sessions ({} clients seen)",
                        client_label(top), percent(share), pg.clients.size());
  a.detail = fmt::format(
      "Over {:.0f} samples, {:.1f} sessions were active on average; {} alone held {:.1f} of them. A "
      "per-client "
      "limit (its concurrency capped near {}, or a request rate limit at the API) keeps the others' share of "
      "the database.",
      pg.samples, total, client_label(top), top.active_avg, limit);
  a.evidence = {{"clients", clients},
                {"top_client", client_label(top)},
                {"top_client_share", round_to(share, 4)},
                {"active_sessions_avg", round_to(total, 2)},
                {"client_active_avg", round_to(top.active_avg, 2)},
                {"suggested_concurrency_limit", limit}};
  double freed = std::max(0.0, share - lv["target_client_share"]);
  a.expected_gain = {round_to(freed, 4), "active_sessions",
                     fmt::format("{} of the active sessions go back to the other clients", percent(freed))};
  a.preconditions = {"the heavy client's work can wait or be spread (a batch, a report, a noisy tenant)"};
  if (!top.usename.empty())
    a.config = fmt::format(
        "-- when {0} is this client's own role:\nALTER ROLE {0} CONNECTION LIMIT {1};\n"
        "; or in pgbouncer.ini: max_user_connections = {1} for that user",
        top.usename, limit);
  a.confidence = round_to(margin_confidence(share, lv["min_top_client_share"], 1.6), 2);
  a.measured_by = {std::string(kActivity)};
  return a;
}

// --- orchestration -----------------------------------------------------------------------------

void add(std::vector<Advice>& out, std::optional<Advice> a) {
  if (a) out.push_back(std::move(*a));
}

}  // namespace

std::vector<Advice> advise(const LeverInputs& in, const Report& ranked, const Settings& settings) {
  auto lever = [&](std::string_view id) -> std::optional<Lever> {
    if (!settings.enabled(id)) return std::nullopt;
    return Lever{settings.params(*find_advice(id))};
  };
  std::vector<Advice> verdict_level, out;
  if (auto lv = lever("advice.do_not_scale_out")) add(verdict_level, do_not_scale_out(in, ranked, *lv));
  if (auto lv = lever("advice.scale_out")) add(verdict_level, scale_out(in, ranked, *lv));
  for (const auto& pg : in.postgres) {
    if (auto lv = lever("advice.connection_pooling")) add(out, no_pooler(pg, *lv));
    if (auto lv = lever("advice.cache"))
      for (const auto& [key, group] : cacheable_reads(pg, *lv))
        add(out, cache_group(pg, key, group, in, *lv));
    if (auto lv = lever("advice.read_replicas")) add(out, read_replicas(pg, *lv));
    if (auto lv = lever("advice.partitioning"))
      for (const auto& t : pg.tables) add(out, partitioning(pg, t, *lv));
    if (auto lv = lever("advice.rate_limiting")) add(out, rate_limiting(pg, *lv));
  }
  if (auto lv = lever("advice.connection_pooling"))
    for (const auto& b : in.pgbouncer) add(out, review_pgbouncer(b, in, *lv));
  if (auto lv = lever("advice.cache"); lv && in.postgres.empty())
    for (const auto& t : in.traces) add(out, cache_from_traces(t, *lv));
  std::stable_sort(out.begin(), out.end(), [](const Advice& a, const Advice& b) {
    return a.expected_gain.share.value_or(0) > b.expected_gain.share.value_or(0);
  });
  verdict_level.insert(verdict_level.end(), std::make_move_iterator(out.begin()),
                       std::make_move_iterator(out.end()));
  return verdict_level;
}

void LeverInputs::append(LeverInputs&& other) {
  auto move_all = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  move_all(postgres, other.postgres);
  move_all(pgbouncer, other.pgbouncer);
  move_all(redis, other.redis);
  move_all(traces, other.traces);
}

}  // namespace cp
