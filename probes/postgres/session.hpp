// The postgres collector's one read-only session: every statement it sends is tagged, so its own
// load can be told apart in pg_stat_statements; readers of result fields; connect errors in the
// user's words. Internal to the collector.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "util/conninfo.hpp"

namespace cp::pg {

// Every statement chokepoint sends starts with this comment, so its own statements can be told
// apart in pg_stat_statements and left out of the diagnosis.
constexpr std::string_view kTag = "/* chokepoint */ ";

// A collection step that cannot go on, with the message the user will read.
struct CollectError {
  std::string message;
};

inline double num(const pqxx::field& f) {
  return f.is_null() ? 0.0 : f.as<double>();
}
inline std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str());
}

class Connection {
 public:
  // Read-only, with statement and lock timeouts; PgBouncer-style proxies get them by SET.
  Connection(const ConnInfo& info, const SessionLimits& limits);

  pqxx::result run(std::string_view sql) {
    pqxx::nontransaction tx(*conn_);
    return tx.exec(std::string(kTag) + std::string(sql));
  }
  pqxx::connection& conn() { return *conn_; }

 private:
  std::unique_ptr<pqxx::connection> conn_;
};

// A failed connect (libpq's message) said with what to check.
std::string connect_error_message(const std::string& raw, const ConnInfo& info, const SessionLimits& limits);

}  // namespace cp::pg
