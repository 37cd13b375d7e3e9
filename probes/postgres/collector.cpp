#include "probes/postgres/collector.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "probes/postgres/explain.hpp"
#include "probes/postgres/readings.hpp"
#include "probes/postgres/sampling.hpp"
#include "probes/postgres/session.hpp"
#include "probes/postgres/sql_shape.hpp"
#include "util/conninfo.hpp"
#include "util/redact.hpp"

namespace cp::pg {

namespace {

using Clock = std::chrono::steady_clock;

std::string pgss_missing_message(const std::string& db) {
  return fmt::format(
      "pg_stat_statements is not available in database {}: add pg_stat_statements to "
      "shared_preload_libraries in postgresql.conf, restart PostgreSQL, then run "
      "CREATE EXTENSION pg_stat_statements; in that database",
      db);
}

// pg_stat_statements as this server has it.
struct Pgss {
  std::string schema;  // quoted
  int server_version = 0;

  bool has_info() const { return server_version >= 140000; }  // pg_stat_statements_info
  // Entries pg_stat_statements evicted since its reset (0 before PostgreSQL 14).
  double dealloc(Connection& s) const {
    return has_info() ? num(s.run("SELECT dealloc FROM " + schema + ".pg_stat_statements_info")[0][0]) : 0;
  }
};

// The server, the database and the extensions chokepoint reads (pg_stat_statements is required,
// HypoPG optional).
Pgss open_statistics(Connection& s, Snapshot& snap) {
  snap.server_version_num = s.conn().server_version();
  snap.server_version = text(s.run("SHOW server_version")[0][0]);
  snap.database = text(s.run("SELECT current_database()")[0][0]);

  auto ext = s.run(
      "SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
      "e.extnamespace WHERE e.extname IN ('pg_stat_statements', 'hypopg')");
  Pgss pgss{"", snap.server_version_num};
  for (const auto& row : ext) {
    if (text(row["extname"]) == "hypopg") snap.hypopg = true;
    if (text(row["extname"]) == "pg_stat_statements") {
      snap.pgss_version = text(row["extversion"]);
      pgss.schema = s.conn().quote_name(text(row["nspname"]));
    }
  }
  if (pgss.schema.empty()) throw CollectError{pgss_missing_message(snap.database)};
  snap.pgss_all_visible =
      s.run(
           "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') FROM pg_roles "
           "WHERE rolname = current_user")[0][0]
          .as<bool>();
  return pgss;
}

// The counters at the window's start (none for one cumulative snapshot).
struct StartReadings {
  StatementMap statements;
  std::vector<Table> tables;
  double dealloc = 0;
};

StartReadings read_start(Connection& s, const Pgss& pgss, bool cumulative, Snapshot& snap) {
  StartReadings start;
  try {
    if (!cumulative) start.statements = read_statements(s, pgss.schema, pgss.server_version, false);
  } catch (const pqxx::sql_error& e) {
    // Installed but not preloaded: "pg_stat_statements must be loaded via shared_preload_libraries".
    throw CollectError{pgss_missing_message(snap.database) + " (" + libpq_message(e.what()) + ")"};
  }
  if (!cumulative) {
    snap.database_start = read_database(s);
    start.tables = read_tables(s);
    start.dealloc = pgss.dealloc(s);
  }
  return start;
}

// The counters at the window's end, as deltas from its start; chokepoint's own statements counted
// apart.
void read_end(Connection& s, const Pgss& pgss, const StartReadings& start, const CollectContext& ctx,
              Clock::time_point started, Snapshot& snap) {
  bool cumulative = ctx.cumulative();
  StatementMap own_statements;
  StatementMap end_statements = read_statements(s, pgss.schema, pgss.server_version, true, &own_statements);
  for (const auto& own : statement_deltas(start.statements, own_statements, cumulative)) {
    snap.self_calls += own.calls;
    snap.self_exec_ms += own.total_exec_ms;
  }
  snap.database_end = read_database(s);
  snap.tables = read_tables(s);
  snap.window_s = ctx.measured_window(started);
  snap.statements = statement_deltas(start.statements, end_statements, cumulative);
  if (!cumulative) subtract_table_counters(snap.tables, start.tables);
  snap.pgss_dealloc = pgss.dealloc(s) - start.dealloc;
  if (pgss.has_info()) {
    auto age = s.run("SELECT extract(epoch FROM now() - stats_reset)::float8 FROM " + pgss.schema +
                     ".pg_stat_statements_info")[0][0];
    if (!age.is_null()) snap.stats_age_s = age.as<double>();
  }
  if (auto age = snap.database_end.find("stats_reset_age_s"); age != snap.database_end.end())
    snap.table_stats_age_s = age->second;
}

// What does not change over a window: indexes, time columns, settings.
void read_catalogue(Connection& s, Snapshot& snap) {
  snap.indexes = read_indexes(s);
  snap.time_columns = read_time_columns(s);
  snap.settings = read_settings(s);
  if (auto it = snap.settings.find("pg_stat_statements.max"); it != snap.settings.end())
    snap.pgss_max = std::atof(it->second.c_str());
}

// Generic plans of the `explain_top` statements that took the most time (and their what-ifs).
void explain_top_statements(Connection& s, const CollectContext& ctx, Snapshot& snap) {
  double explain_top = ctx.option("postgres", "explain_top");
  double whatif_min_rows = ctx.config().params("db.missing_index")["min_table_rows"];
  int explained = 0;
  std::string wider_search_path;  // read once, when a statement's table is not on the default path
  for (const auto& st : snap.statements) {
    if (explained >= explain_top) break;
    if (!is_explainable(st.query)) continue;
    if (ctx.was_interrupted()) {
      snap.notes.push_back(
          fmt::format("the run was interrupted: {} of the top statements were explained, the others were not",
                      explained));
      break;
    }
    snap.plans.push_back(explain_statement(s, st, snap, whatif_min_rows, wider_search_path));
    ++explained;
  }
}

Snapshot collect_snapshot(Connection& s, const CollectContext& ctx, const ConnInfo& info,
                          const SessionLimits& limits) {
  Snapshot snap;
  Pgss pgss = open_statistics(s, snap);
  auto started = Clock::now();
  StartReadings start = read_start(s, pgss, ctx.cumulative(), snap);
  snap.sample_interval_s = interval_option(ctx, "postgres", "sample_interval_ms", 50);
  sample_through_window(ctx, snap.sample_interval_s,
                        [&](double t_s) { snap.activity.push_back(sample_activity(s, t_s)); });
  read_end(s, pgss, start, ctx, started, snap);
  read_catalogue(s, snap);

  int attempts = static_cast<int>(ctx.option("postgres", "connect_samples"));
  if (attempts > 0 && !ctx.was_interrupted()) snap.connect = measure_connect(info, limits, attempts);
  explain_top_statements(s, ctx, snap);
  return snap;
}

}  // namespace

Collected collect(const Target& target, const CollectContext& ctx) {
  Collected out;
  std::string parse_error;
  auto info = parse_conninfo(target.spec(), parse_error);
  if (!info) {
    out.status = ProbeStatus::error;
    out.message = scrub("invalid DSN: " + parse_error, target.secrets);
    return out;
  }
  SessionLimits limits;
  std::unique_ptr<Connection> session;
  // A session that dies once connected (server restart, pg_terminate_backend) surfaces as whatever
  // the next call fails with ("Could not obtain client encoding: not connected"): say what happened.
  auto lost = [&](const std::string& raw) {
    std::string reason = libpq_message(raw);
    if (reason.find("client encoding") != std::string::npos ||
        reason.find("not connected") != std::string::npos)
      reason = "the server closed the connection";  // pqxx's follow-up error, not the cause
    return fmt::format(
        "{}: the connection was lost during the window (the server restarted or ended the session): "
        "nothing of this window was kept — {}",
        info->display_name(), reason);
  };
  try {
    try {
      session = std::make_unique<Connection>(*info, limits);
    } catch (const pqxx::broken_connection& e) {
      throw CollectError{connect_error_message(e.what(), *info, limits)};
    }
    out.snapshot = collect_snapshot(*session, ctx, *info, limits);
  } catch (const CollectError& e) {
    out.status = ProbeStatus::error;
    out.message = e.message;
  } catch (const pqxx::broken_connection& e) {
    out.status = ProbeStatus::error;
    out.message = lost(e.what());
  } catch (const pqxx::sql_error& e) {
    out.status = ProbeStatus::error;
    // 57P01..: the server shut the session down; 08xxx: the connection failed.
    if (e.sqlstate().rfind("57P", 0) == 0 || e.sqlstate().rfind("08", 0) == 0 ||
        (session && !session->conn().is_open())) {
      out.message = scrub(lost(e.what()), target.secrets);
      return out;
    }
    std::string hint = e.sqlstate() == "42501" ? " — grant the role pg_monitor (or pg_read_all_stats)" : "";
    out.message = fmt::format("{}: {}{}", info->display_name(), libpq_message(e.what()), hint);
  } catch (const std::exception& e) {
    out.status = ProbeStatus::error;
    out.message = session && !session->conn().is_open()
                      ? lost(e.what())
                      : fmt::format("{}: {}", info->display_name(), libpq_message(e.what()));
  }
  out.message = scrub(out.message, target.secrets);
  return out;
}

}  // namespace cp::pg
