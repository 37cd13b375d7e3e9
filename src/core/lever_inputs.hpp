// The measurements the scaling advice reads (src/core/advice.cpp), derived by each probe's pure
// judge from its snapshot: plain numbers, no judgement. Counters are deltas over the window.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cp {

// One client of the database, as sampled in pg_stat_activity.
struct ClientLoad {
  std::string application_name, client_addr, usename;
  double active_avg = 0;    // active sessions on average over the samples
  double sessions_avg = 0;  // connected sessions on average
};

// One table: its size, reads and writes over the window, and how hot statements use it.
struct TableLoad {
  std::string schema, name;
  double rows = 0, size_bytes = 0;
  bool partitioned = false;         // already a partitioned table or a partition
  double scans = 0, rows_read = 0;  // seq_scan + idx_scan, seq_tup_read + idx_tup_fetch
  double idx_scans = 0, idx_rows_fetched = 0;
  double inserts = 0, updates = 0, deletes = 0;
  double read_ms = 0, read_calls = 0;     // read statements touching only this table
  std::vector<std::string> time_columns;  // timestamp / timestamptz / date columns
  // The time column hot statements filter by range, and what those statements cost.
  std::string range_column, range_query;
  double range_read_ms = 0, range_read_calls = 0, range_rows_per_call = 0;
  bool range_aggregate = false;
  std::optional<double> time_span_s;  // spread of the range column's values (pg_stats histogram)
  std::string purge_query;            // DELETE … WHERE range_column < …, when seen
  double purge_calls = 0;
  double writes() const { return inserts + updates + deletes; }
};

// A read statement of the window (SELECT without FOR UPDATE), with the tables it reads.
struct ReadStatement {
  std::string query;
  double calls = 0, total_ms = 0, rows = 0;
  std::vector<std::string> tables;  // schema.name
  bool aggregate = false;
};

struct PostgresLoad {
  std::string target, component, database;
  double window_s = 0;                                             // the time base of the deltas; 0 = unknown
  double db_time_ms = 0, read_ms = 0, write_ms = 0, other_ms = 0;  // statement time by type
  double xacts = 0, sessions = 0;
  std::optional<double> connect_ms;  // median connect + authentication
  double max_connections = 0, usable_connections = 0;
  double connections_peak = 0, connections_avg = 0;
  double active_avg = 0, active_peak = 0, active_p95 = 0;
  double samples = 0;
  std::vector<std::string> session_features;  // "advisory locks", "SET", "PREPARE" … seen in statements
  std::vector<ClientLoad> clients;            // most active first
  std::vector<TableLoad> tables;
  std::vector<ReadStatement> reads;  // most time first
};

struct BouncerLoad {
  std::string target, component;
  std::map<std::string, std::string> config;  // SHOW CONFIG: pool_mode, default_pool_size …
  double pools = 0, pool_size_total = 0;      // pools and their configured server sizes
  double cl_active_peak = 0, cl_waiting_peak = 0, sv_active_avg = 0, sv_active_peak = 0, sv_idle_avg = 0;
  double maxwait_s = 0;
};

struct CacheLoad {
  std::string target, component;
  std::optional<double> hit_ratio;  // keyspace hits / (hits + misses) over the window
  double evicted_keys = 0, commands_per_s = 0, used_memory_bytes = 0, maxmemory_bytes = 0;
};

// A read statement seen repeatedly in traces (the same statement more than once per request).
struct TraceRead {
  std::string query, service, route;
  double requests = 0, repeats_per_request = 0, total_ms = 0;
};

struct TraceLoad {
  std::string target;
  double requests = 0;
  std::optional<double> database_share;  // of request time
  std::vector<TraceRead> repeated_reads;
};

struct LeverInputs {
  std::vector<PostgresLoad> postgres;
  std::vector<BouncerLoad> pgbouncer;
  std::vector<CacheLoad> redis;
  std::vector<TraceLoad> traces;
  void append(LeverInputs&& other);
};

}  // namespace cp
