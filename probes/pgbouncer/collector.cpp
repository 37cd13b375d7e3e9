#include "probes/pgbouncer/collector.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "probes/pgbouncer/snapshot.hpp"
#include "util/conninfo.hpp"
#include "util/redact.hpp"
#include "util/self.hpp"

namespace cp::pgb {

namespace {

using Clock = std::chrono::steady_clock;

struct ConsoleError {
  std::string message;
};

class Console {
 public:
  explicit Console(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str()), PQfinish) {}
  bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  std::string error() const { return pg::libpq_message(PQerrorMessage(conn_.get())); }

  // One SHOW command; rows keyed by column name.
  std::vector<Row> show(const std::string& what) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn_.get(), ("SHOW " + what).c_str()), PQclear);
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
      throw ConsoleError{
          fmt::format("SHOW {}: {}", what, pg::libpq_message(PQresultErrorMessage(res.get())))};
    std::vector<Row> rows;
    int cols = PQnfields(res.get());
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      Row row;
      for (int c = 0; c < cols; ++c) row[PQfname(res.get(), c)] = PQgetvalue(res.get(), r, c);
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

std::string connect_message(const std::string& error, const std::string& where) {
  if (error.find("not allowed") != std::string::npos)
    return fmt::format(
        "{}: this user may not use the admin console — add it to admin_users or stats_users in "
        "pgbouncer.ini (and RELOAD)",
        where);
  if (error.find("authentication failed") != std::string::npos)
    return fmt::format("{}: {} — check the user and password (PgBouncer's auth_file / auth_query)", where,
                       error);
  if (error.find("no such database") != std::string::npos)
    return fmt::format("{}: {} — the admin console is the database named \"pgbouncer\"", where, error);
  if (error.find("Connection refused") != std::string::npos)
    return fmt::format(
        "{}: connection refused — is PgBouncer listening on that host and port (listen_addr, "
        "listen_port)?",
        where);
  return fmt::format("{}: {}", where, error);
}

// chokepoint's clients by pool (SHOW CLIENTS, application_name: PgBouncer keeps it as the client
// sent it). Older PgBouncers without the column: none are told apart.
std::map<std::string, double> own_clients(Console& console) {
  std::map<std::string, double> own;
  for (const auto& row : console.show("CLIENTS"))
    if (text(row, "application_name") == kSelfName && text(row, "database") != "pgbouncer")
      own[text(row, "database") + "/" + text(row, "user")] += 1;
  return own;
}

}  // namespace

Collected collect(const Target& target, const CollectContext& ctx) {
  Collected out;
  std::string error;
  auto info = pg::parse_conninfo(target.spec(), error);
  if (!info) return {ProbeStatus::error, scrub("invalid DSN: " + error, target.secrets), {}};
  pg::SessionLimits limits;
  // No "options" startup parameter: PgBouncer rejects it.
  Console console(pg::session_conninfo(*info, limits, false));
  if (!console.ok()) {
    out.status = ProbeStatus::error;
    out.message = scrub(connect_message(console.error(), info->display_name()), target.secrets);
    return out;
  }
  try {
    Snapshot snap;
    auto version = console.show("VERSION");
    if (!version.empty() && !version[0].empty()) snap.version = version[0].begin()->second;
    // Paths on PgBouncer's machine (conffile, logfile, auth_file, sockets) stay there: evidence travels.
    for (const auto& row : console.show("CONFIG"))
      if (row.at("value").rfind('/', 0) != 0) snap.config[row.at("key")] = row.at("value");
    auto started = Clock::now();
    if (!ctx.cumulative()) snap.stats_start = console.show("STATS");
    sample_through_window(ctx, interval_option(ctx, "pgbouncer", "sample_interval_ms", 50), [&](double t_s) {
      snap.pool_samples.push_back({t_s, console.show("POOLS")});
    });
    snap.stats_end = console.show("STATS");
    snap.window_s = ctx.measured_window(started);
    snap.databases = console.show("DATABASES");
    snap.own_clients = own_clients(console);
    out.snapshot = snap;
  } catch (const ConsoleError& e) {
    out.status = ProbeStatus::error;
    out.message = scrub(fmt::format("{}: {}", info->display_name(), e.message), target.secrets);
  } catch (const std::out_of_range&) {
    out.status = ProbeStatus::error;
    out.message =
        info->display_name() + ": unexpected SHOW CONFIG output (is this PgBouncer's admin console?)";
  }
  return out;
}

}  // namespace cp::pgb
