// Which span attributes say what a span calls, as data with sources: the keys the readers pick up
// (both OpenTelemetry generations, OpenTracing tags, Zipkin endpoints, APM span ops) and the values
// that name a database or a cache. One table each; the readers and the assembler both read them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "probes/traces/span.hpp"

namespace cp::traces {

// The RawSpan field an attribute key feeds.
enum class Attr : uint8_t {
  none,
  error,
  url,
  target_path,
  db_system,
  db_statement,
  db_params,
  span_kind,
  http_route,
  error_type,
  http_method,
  peer_service,
  peer,
  peer_port,
  component,
  op,
  http_status,
  otel_status,
  code_filepath,  // where the span was started: for SARIF annotations
  code_lineno,
  code_function,
  db_collection,
  messaging_system,
  messaging_destination,
  messaging_operation,
  rpc_method,
  user_agent,  // server spans: the client's user agent (chokepoint's own requests are left out)
  name         // the span's name: value conventions only (Zipkin local spans, PHP PDO / Doctrine spans)
};

struct KeyConvention {
  std::string_view key;
  Attr field;
  std::string_view source;
};
const std::vector<KeyConvention>& key_conventions();

// The field a key feeds (Attr::none for every other key: its value is never parsed). Keys are
// bucketed by length, so the common, unwanted key costs a load and a compare or two.
Attr attribute_of(std::string_view key);

enum class Datastore : uint8_t { none, database, cache };

struct ValueConvention {
  Attr field;              // where the value is read
  std::string_view value;  // exact, or a prefix when it ends with '*'
  Datastore kind;
  std::string_view source;
};
const std::vector<ValueConvention>& value_conventions();

// What a span calls, from every convention it carries: a database, a cache, or neither.
Datastore datastore_of(const RawSpan& s);
// The datastore's name for reports ("postgresql", "redis", "mysql"): the most specific name given.
std::string_view datastore_name(const RawSpan& s);
// A span that waits for a pooled connection (pg-pool.connect, HikariPool.getConnection …).
bool is_pool_wait(std::string_view name);
// A span that prepares a statement another span executes (PDO::prepare, Doctrine's prepare).
bool prepares_statement(std::string_view name);

}  // namespace cp::traces
