// What the Redis collector read: INFO at the window's start and end, CONFIG, SLOWLOG entries that
// appeared during the window (command name and duration only), LATENCY LATEST, PING round trips.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/json_optional.hpp"

namespace cp::redis {

struct SlowEntry {
  std::string command;  // the command name only: arguments may hold user data
  double duration_us = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SlowEntry, command, duration_us)

struct LatencyEvent {
  std::string event;
  double latest_ms = 0, max_ms = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LatencyEvent, event, latest_ms, max_ms)

struct Snapshot {
  std::string version;
  int db = 0;
  double window_s = 0;
  std::map<std::string, std::string> info_start, info_end;  // INFO key -> value (all sections)
  std::map<std::string, std::string> config;                // CONFIG GET, when allowed
  std::string config_error;                                 // why CONFIG GET was refused
  std::vector<SlowEntry> slowlog;                           // entries added during the window
  bool slowlog_available = true;
  std::vector<LatencyEvent> latency;
  // PING round trips (ms): a histogram summary.
  double ping_count = 0, ping_p50_ms = 0, ping_p99_ms = 0, ping_max_ms = 0;
  // chokepoint's own load, left out of the judgement: the commands it sent that the INFO deltas
  // count (by INFO commandstats name: "ping", "info", "slowlog|get"), its clients (named
  // chokepoint: this connection, another run's) at the window's end, its SLOWLOG entries skipped.
  std::map<std::string, double> own_commands;
  double own_clients = 0, own_slow_entries = 0;
  std::string client_name_error;  // why CLIENT SETNAME was refused
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, version, db, window_s, info_start, info_end, config,
                                                config_error, slowlog, slowlog_available, latency, ping_count,
                                                ping_p50_ms, ping_p99_ms, ping_max_ms, own_commands,
                                                own_clients, own_slow_entries, client_name_error)

}  // namespace cp::redis
