#include "probes/postgres/sampling.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <libpq-fe.h>

#include "util/format.hpp"
#include "util/self.hpp"
#include "util/sql.hpp"

namespace cp::pg {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int> parse_int_array(const std::string& s) {  // "{12,34}"
  std::vector<int> out;
  int v = 0;
  bool in_number = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      in_number = true;
    } else if (in_number) {
      out.push_back(v);
      v = 0;
      in_number = false;
    }
  }
  if (in_number) out.push_back(v);
  return out;
}

// Statement text from pg_stat_activity carries the application's literals (user data): keep the
// normalized form only. Text PostgreSQL truncated may not parse; it is cut before any literal.
std::string normalized_activity_query(const std::string& raw) {
  return one_line(statement_text_for_output(raw), 300);
}

// Every client backend but chokepoint's: this session, and any other with its application_name
// (another run, its connect samples): chokepoint never judges its own sessions.
constexpr std::string_view kActivitySql =
    "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, a.usename, a.application_name, "
    "coalesce(extract(epoch FROM now() - a.xact_start), 0)::float8 AS xact_age_s, "
    "coalesce(extract(epoch FROM now() - a.state_change), 0)::float8 AS state_age_s, "
    "coalesce(extract(epoch FROM now() - a.query_start), 0)::float8 AS query_age_s, "
    "CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid)::text END AS blocked_by, "
    "CASE WHEN a.wait_event_type = 'Lock' AND a.datname = current_database() THEN "
    "  (SELECT string_agg(DISTINCT l.relation::regclass::text, ',') FROM pg_locks l "
    "    WHERE l.pid = a.pid AND l.relation IS NOT NULL AND (NOT l.granted OR l.locktype = 'tuple')) "
    "END AS lock_relation, "
    "left(a.query, 1024) AS query, coalesce(host(a.client_addr), '') AS client_addr "
    "FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend' "
    "AND a.application_name IS DISTINCT FROM 'chokepoint'";
static_assert(kSelfName == "chokepoint", "the filter above names chokepoint's application_name");

std::optional<double> tcp_handshake_ms(const std::string& host, const std::string& port) {
  if (host.empty() || host.front() == '/' || host.find(',') != std::string::npos) return std::nullopt;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.empty() ? "5432" : port.c_str(), &hints, &res) != 0 || !res)
    return std::nullopt;
  std::optional<double> out;
  int fd = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd >= 0) {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto t0 = Clock::now();
    if (::connect(fd, res->ai_addr, res->ai_addrlen) == 0)
      out = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ::close(fd);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace

ActivitySample sample_activity(Connection& s, double t_s) {
  ActivitySample out;
  out.t_s = t_s;
  std::vector<Session> all;
  std::map<std::tuple<std::string, std::string, std::string>, ClientCount> clients;
  for (const auto& row : s.run(kActivitySql)) {
    Session ses;
    ses.pid = row["pid"].as<int>();
    ses.state = text(row["state"]);
    ses.wait_event_type = text(row["wait_event_type"]);
    ses.wait_event = text(row["wait_event"]);
    ses.usename = text(row["usename"]);
    ses.application_name = text(row["application_name"]);
    ses.xact_age_s = num(row["xact_age_s"]);
    ses.state_age_s = num(row["state_age_s"]);
    ses.query_age_s = num(row["query_age_s"]);
    ses.blocked_by = parse_int_array(text(row["blocked_by"]));
    ses.relation = text(row["lock_relation"]);
    ses.query = text(row["query"]);
    std::string addr = text(row["client_addr"]);
    ClientCount& client = clients[{ses.application_name, addr, ses.usename}];
    client = {ses.application_name, addr, ses.usename, client.sessions + 1,
              client.active + (ses.state == "active" ? 1 : 0)};
    ++out.total;
    if (ses.state == "active") ++out.active;
    if (ses.state == "idle") ++out.idle;
    if (ses.state.rfind("idle in transaction", 0) == 0) ++out.idle_in_transaction;
    if (ses.wait_event_type == "Lock") ++out.waiting_lock;
    all.push_back(std::move(ses));
  }
  for (auto& [key, client] : clients) out.clients.push_back(std::move(client));
  std::set<int> blockers;
  for (const auto& ses : all) blockers.insert(ses.blocked_by.begin(), ses.blocked_by.end());
  for (auto& ses : all) {
    bool notable = ses.wait_event_type == "Lock" || blockers.count(ses.pid) ||
                   ses.state.rfind("idle in transaction", 0) == 0 ||
                   (ses.state == "active" && ses.xact_age_s >= 1);
    if (!notable) continue;
    ses.query = normalized_activity_query(ses.query);
    out.sessions.push_back(std::move(ses));
  }
  return out;
}

ConnectTiming measure_connect(const ConnInfo& info, const SessionLimits& limits, int attempts) {
  ConnectTiming out;
  std::string conninfo = session_conninfo(info, limits, false);
  for (int i = 0; i < attempts; ++i) {
    auto t0 = Clock::now();
    PGconn* c = PQconnectdb(conninfo.c_str());
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (PQstatus(c) == CONNECTION_OK) {
      out.connect_ms.push_back(ms);
      out.tls = PQsslInUse(c) == 1;
    } else {
      out.error = libpq_message(PQerrorMessage(c));
    }
    PQfinish(c);
  }
  out.tcp_ms = tcp_handshake_ms(info.get("host", info.get("hostaddr")), info.get("port"));
  return out;
}

}  // namespace cp::pg
