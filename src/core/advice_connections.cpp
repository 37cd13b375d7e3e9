// Levers on connections: a pooler (PgBouncer) sized from the run, an examined PgBouncer's settings
// reviewed, and a per-client rate limit when one client holds most active sessions.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "core/advice_levers.hpp"
#include "util/format.hpp"

namespace cp::levers {

// --- connection pooling ------------------------------------------------------------------------

namespace {

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

json pool_evidence(const PostgresLoad& pg, const PoolPlan& p, double rate, double per_xact) {
  return {{"sessions_per_s", round_to(rate, 2)},
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
}

}  // namespace

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
  a.evidence = pool_evidence(pg, p, rate, per_xact);
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

namespace {

double config_number(const BouncerLoad& b, const std::string& key) {
  auto it = b.config.find(key);
  return it == b.config.end() ? 0 : std::atof(it->second.c_str());
}

std::string config_text(const BouncerLoad& b, const std::string& key) {
  auto it = b.config.find(key);
  return it == b.config.end() ? "" : it->second;
}

}  // namespace

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

// --- rate limiting -----------------------------------------------------------------------------

namespace {

std::string client_label(const ClientLoad& c) {
  std::string who = c.usename + (c.client_addr.empty() ? "" : "@" + c.client_addr);
  return c.application_name.empty() ? who : c.application_name + " (" + who + ")";
}

}  // namespace

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

}  // namespace cp::levers
