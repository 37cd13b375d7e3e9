#include "probes/postgres/session.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace cp::pg {

Connection::Connection(const ConnInfo& info, const SessionLimits& limits) {
  try {
    conn_ = std::make_unique<pqxx::connection>(session_conninfo(info, limits, true));
  } catch (const pqxx::broken_connection& e) {
    std::string msg = e.what();
    // PgBouncer (and some proxies) refuse the "options" startup parameter: connect without it
    // and apply the same limits with SET.
    if (msg.find("unsupported startup parameter") == std::string::npos) throw;
    conn_ = std::make_unique<pqxx::connection>(session_conninfo(info, limits, false));
    run(session_set_commands(limits));
  }
}

std::string connect_error_message(const std::string& raw, const ConnInfo& info, const SessionLimits& limits) {
  std::string msg = libpq_message(raw);
  std::string where = info.display_name();
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos)
    return fmt::format("{}: {} — check the user and password in the DSN (or ~/.pgpass / PGPASSWORD)", where,
                       msg);
  if (msg.find("does not exist") != std::string::npos)
    return fmt::format("{}: {} — check the database and user names in the DSN", where, msg);
  if (msg.find("timeout expired") != std::string::npos)
    return fmt::format("{}: no answer within connect_timeout={} s — check host, port and firewall", where,
                       info.get("connect_timeout", std::to_string(limits.connect_timeout_s)));
  if (msg.find("Connection refused") != std::string::npos)
    return fmt::format("{}: connection refused — is PostgreSQL running and listening on that host and port?",
                       where);
  if (msg.find("no pg_hba.conf entry") != std::string::npos)
    return fmt::format("{}: {} — add a pg_hba.conf line for this client", where, msg);
  // Multi-line libpq messages: keep them on one line.
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return fmt::format("{}: {}", where, msg);
}

}  // namespace cp::pg
