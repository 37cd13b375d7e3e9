// libpq connection strings (URI or key=value): parsed with libpq's own parser, displayed without
// the password, and rebuilt with chokepoint's safety settings. Shared by the probes that connect
// through libpq (postgres, pgbouncer).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cp::pg {

struct ConnInfo {
  std::map<std::string, std::string> params;  // only the keywords the user set

  std::string get(const std::string& key, const std::string& fallback = "") const;
  // postgresql://user@host:port/dbname, never the password.
  std::string display_name(std::string_view scheme = "postgresql") const;
  // key='value' string; values quoted and escaped the way libpq expects.
  std::string to_string() const;
};

// Parses a DSN; nullopt with `error` set when libpq rejects it (never echoing the string's values).
std::optional<ConnInfo> parse_conninfo(const std::string& dsn, std::string& error);

// A DSN given as a target: its display name (never a password), with the passwords it holds
// (password, sslpassword) added to `secrets`; nullopt with `error` set when libpq rejects it.
std::optional<std::string> conninfo_display_name(const std::string& dsn, std::vector<std::string>& secrets,
                                                 std::string& error);

// libpq's parse error with every quoted part that is not a keyword or punctuation hidden.
std::string redact_parse_error(std::string_view message);

struct SessionLimits {
  int connect_timeout_s = 5;
  int statement_timeout_ms = 5000;
  int lock_timeout_ms = 1000;
};

// The user's parameters plus application_name=chokepoint, a connect timeout (unless set) and, when
// `with_options`, read-only sessions and timeouts in the startup packet. PgBouncer rejects the
// `options` startup parameter, so callers retry without it and SET the same values instead.
std::string session_conninfo(const ConnInfo& info, const SessionLimits& limits, bool with_options);
std::string session_set_commands(const SessionLimits& limits);

// A libpq / server error on one line, without "FATAL:  " / "ERROR:  " and the LINE/HINT lines.
std::string libpq_message(std::string raw);

}  // namespace cp::pg
