// What the PostgreSQL collector read: plain data, serialized as the probe's evidence.
// Counters are deltas over the window (or cumulative values when window_s == 0).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/json_optional.hpp"

namespace cp::pg {

struct Statement {
  int64_t queryid = 0;
  std::string query;  // normalized text from pg_stat_statements ($1 for constants)
  double calls = 0;
  double rows = 0;
  double total_exec_ms = 0;
  double total_plan_ms = 0;
  double shared_blks_hit = 0;
  double shared_blks_read = 0;
  double temp_blks_written = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Statement, queryid, query, calls, rows, total_exec_ms,
                                                total_plan_ms, shared_blks_hit, shared_blks_read,
                                                temp_blks_written)

struct Table {
  std::string schema;
  std::string name;
  double reltuples = 0;  // planner's row estimate (-1 = never analyzed, stored as 0)
  double n_live_tup = 0;
  double size_bytes = 0;
  double seq_scan = 0;  // deltas over the window
  double seq_tup_read = 0;
  double idx_scan = 0;
  // Rows written (deltas over the window, cumulative since the statistics reset when window_s == 0):
  // what every index on the table costs to maintain.
  double idx_tup_fetch = 0;  // delta over the window
  double n_tup_ins = 0;
  double n_tup_upd = 0;
  double n_tup_del = 0;
  double n_tup_hot_upd = 0;  // updates that touched no indexed column (HOT): no index maintenance
  bool partitioned = false;  // a partitioned parent (relkind 'p'): no rows of its own
  std::string parent;        // the partitioned table this one is a partition of ("schema.name"), "" if none
  std::string root;          // the top of its partition tree ("schema.name"), "" if not a partition

  double writes() const { return n_tup_ins + n_tup_upd + n_tup_del; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Table, schema, name, reltuples, n_live_tup, size_bytes,
                                                seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins,
                                                n_tup_upd, n_tup_del, n_tup_hot_upd, partitioned, parent,
                                                root)

// A timestamp / timestamptz / date column of a user table, with the spread of its values from the
// planner's histogram (pg_stats; null before ANALYZE or without the right to read it).
struct TimeColumn {
  std::string schema;
  std::string table;
  std::string column;
  std::optional<double> span_s;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TimeColumn, schema, table, column, span_s)

struct Index {
  std::string schema;
  std::string table;
  std::string name;
  std::string method;                // btree, hash, gin …
  std::vector<std::string> columns;  // key columns in order; "" for an expression
  bool unique = false;
  bool primary = false;
  bool partial = false;
  bool exclusion = false;         // backs an exclusion constraint
  bool valid = true;              // indisvalid (a failed CREATE INDEX CONCURRENTLY leaves it false)
  bool partitioned = false;       // an index on a partitioned table (relkind 'I')
  bool attached = false;          // a partition's index attached to its parent's index
  std::vector<std::string> desc;  // key columns stored descending (subset of columns)
  double idx_scan = 0;            // cumulative since the statistics reset
  double size_bytes = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Index, schema, table, name, method, columns, unique, primary,
                                                partial, exclusion, valid, partitioned, attached, desc,
                                                idx_scan, size_bytes)

// A hypothetical index (HypoPG) and the plan cost with it. On a partitioned table it is one
// hypothetical index per partition scanned (HypoPG's index on the parent is not used by the planner).
struct WhatIf {
  std::string schema;
  std::string table;
  std::vector<std::string> columns;
  std::optional<double> cost_after;
  bool used = false;  // the new plan actually uses the hypothetical index
  std::string error;
  std::vector<std::string> desc;        // columns of the key stored descending
  std::vector<std::string> partitions;  // "schema.name" of the partitions indexed, for a partitioned table
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WhatIf, schema, table, columns, cost_after, used, error, desc,
                                                partitions)

// The generic plan of one statement (EXPLAIN without ANALYZE: nothing is executed).
struct Plan {
  int64_t queryid = 0;
  nlohmann::json plan;  // the "Plan" node of EXPLAIN (FORMAT JSON, VERBOSE), "Output" lists removed
  std::optional<double> total_cost;
  std::string error;  // why no plan (parameter types unknown, timeout …)
  std::vector<WhatIf> what_if;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Plan, queryid, plan, total_cost, error, what_if)

// One session worth keeping from an activity sample: waiting on a lock, blocking one, idle in a
// transaction, or in a long transaction. Query texts are normalized (literals -> $n) on collection.
struct Session {
  int pid = 0;
  std::string state;  // active, idle in transaction …
  std::string wait_event_type;
  std::string wait_event;
  std::string usename;
  std::string application_name;
  double xact_age_s = 0;
  double state_age_s = 0;
  double query_age_s = 0;
  std::vector<int> blocked_by;  // pg_blocking_pids, for lock waiters
  std::string relation;         // the relation a lock waiter waits on, when PostgreSQL knows it
  std::string query;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Session, pid, state, wait_event_type, wait_event, usename,
                                                application_name, xact_age_s, state_age_s, query_age_s,
                                                blocked_by, relation, query)

// The client backends of one client (application_name, client address, user) at one moment.
struct ClientCount {
  std::string application_name;
  std::string client_addr;  // "" over a Unix socket
  std::string usename;
  int sessions = 0;
  int active = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ClientCount, application_name, client_addr, usename, sessions,
                                                active)

// pg_stat_activity at one moment: counts of every client backend, details of the notable ones.
struct ActivitySample {
  double t_s = 0;  // since the window started
  int total = 0;   // client backends, all databases (connection limits are per server)
  int active = 0;
  int idle = 0;
  int idle_in_transaction = 0;
  int waiting_lock = 0;
  std::vector<Session> sessions;
  std::vector<ClientCount> clients;  // every client backend, counted per client
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ActivitySample, t_s, total, active, idle, idle_in_transaction,
                                                waiting_lock, sessions, clients)

// Connection set-up measured with extra short-lived connections outside the window.
struct ConnectTiming {
  std::vector<double> connect_ms;  // libpq connect + authentication, each attempt
  std::optional<double> tcp_ms;    // TCP handshake alone (null over a Unix socket)
  bool tls = false;
  std::string error;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ConnectTiming, connect_ms, tcp_ms, tls, error)

struct Snapshot {
  std::string server_version;
  int server_version_num = 0;
  std::string database;
  double window_s = 0;                // measured between the two readings; 0 = cumulative
  std::optional<double> stats_age_s;  // age of the cumulative statistics (pg_stat_statements reset)
  // Age of the table and index counters (pg_stat_database.stats_reset, else the server's start).
  std::optional<double> table_stats_age_s;
  bool hypopg = false;
  std::string pgss_version;
  double pgss_max = 0;
  double pgss_dealloc = 0;       // entries evicted during the window (cumulative when window_s == 0)
  bool pgss_all_visible = true;  // false: the role lacks pg_read_all_stats and sees only its own texts
  std::vector<Statement> statements;
  std::map<std::string, double> database_start;  // pg_stat_database numeric columns
  std::map<std::string, double> database_end;
  std::vector<Table> tables;
  std::vector<TimeColumn> time_columns;
  std::vector<Index> indexes;
  std::vector<Plan> plans;
  std::map<std::string, std::string> settings;  // shared_buffers, max_connections … (value in unit)
  std::vector<ActivitySample> activity;         // sampled through the window
  double sample_interval_s = 0;
  ConnectTiming connect;
  // chokepoint's own load on the server during the window (its tagged statements).
  double self_calls = 0;
  double self_exec_ms = 0;
  std::vector<std::string> notes;  // caveats met while collecting
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, server_version, server_version_num, database,
                                                window_s, stats_age_s, table_stats_age_s, hypopg,
                                                pgss_version, pgss_max, pgss_dealloc, pgss_all_visible,
                                                statements, database_start, database_end, tables,
                                                time_columns, indexes, plans, settings, activity,
                                                sample_interval_s, connect, self_calls, self_exec_ms, notes)

}  // namespace cp::pg
