#include "probes/traces/conventions.hpp"

#include <array>
#include <cctype>

namespace cp::traces {

namespace {
constexpr std::string_view kOtelOld = "OpenTelemetry semantic conventions <= 1.20 (db.*, http.*, net.*)";
constexpr std::string_view kOtelNew =
    "OpenTelemetry semantic conventions >= 1.21/1.26 (url.*, server.*, db.*.name)";
constexpr std::string_view kOpenTracing = "OpenTracing semantic conventions (span tags)";
constexpr std::string_view kZipkin = "Zipkin v2 model (remoteEndpoint.serviceName) and Brave/zipkin-js tags";
constexpr std::string_view kApm = "APM span operations (Sentry span op, Elastic APM span type/subtype)";
constexpr std::string_view kJaeger = "Jaeger client tags (span.kind, error, peer.service)";
constexpr std::string_view kMessaging =
    "OpenTelemetry messaging semantic conventions (messaging.system, messaging.destination[.name], "
    "messaging.operation[.type]: publish / receive)";
constexpr std::string_view kRpc =
    "OpenTelemetry RPC semantic conventions (rpc.system, rpc.service, rpc.method)";
constexpr std::string_view kMongo =
    "OpenTelemetry MongoDB conventions (db.mongodb.collection, db.collection.name; db.statement as JSON)";
constexpr std::string_view kZipkinLocal =
    "Zipkin/Brave local spans named after the call (sql.query, cassandra.query, mongodb.*, redis.*)";
constexpr std::string_view kPhp =
    "PHP PDO / Doctrine DBAL instrumentation (OpenTelemetry contrib, Datadog): spans named PDO::query, "
    "PDOStatement::execute, Doctrine\\DBAL\\…, with no db.system";
}  // namespace

namespace {
// The keys and the field each feeds: data (a catalog), whatever its length.
std::vector<KeyConvention> key_catalog() {
  return {
      {"db.system", Attr::db_system, kOtelOld},
      {"db.system.name", Attr::db_system, kOtelNew},
      {"db.type", Attr::db_system, kOpenTracing},
      {"db.statement", Attr::db_statement, kOtelOld},
      {"db.query.text", Attr::db_statement, kOtelNew},
      {"sql.query", Attr::db_statement, kZipkin},
      {"cassandra.query", Attr::db_statement, kZipkin},
      {"db.postgresql.values", Attr::db_params,
       "OpenTelemetry JS pg instrumentation (enhancedDatabaseReporting)"},
      {"db.statement.parameters", Attr::db_params, kOtelOld},
      {"db.query.parameters", Attr::db_params, kOtelNew},
      {"http.url", Attr::url, kOtelOld},
      {"url.full", Attr::url, kOtelNew},
      {"http.target", Attr::target_path, kOtelOld},
      {"url.path", Attr::target_path, kOtelNew},
      {"http.path", Attr::target_path, kZipkin},
      {"http.method", Attr::http_method, kOtelOld},
      {"http.request.method", Attr::http_method, kOtelNew},
      {"http.status_code", Attr::http_status, kOtelOld},
      {"http.response.status_code", Attr::http_status, kOtelNew},
      {"http.route", Attr::http_route, kOtelOld},
      {"net.peer.name", Attr::peer, kOtelOld},
      {"server.address", Attr::peer, kOtelNew},
      {"peer.hostname", Attr::peer, kOpenTracing},
      {"net.peer.port", Attr::peer_port, kOtelOld},
      {"server.port", Attr::peer_port, kOtelNew},
      {"peer.port", Attr::peer_port, kOpenTracing},
      {"peer.service", Attr::peer_service, kOpenTracing},
      {"rpc.service", Attr::peer_service, kOtelOld},
      {"component", Attr::component, kOpenTracing},
      {"op", Attr::op, kApm},
      {"sentry.op", Attr::op, kApm},
      {"span.type", Attr::op, kApm},
      {"span.kind", Attr::span_kind, kJaeger},
      {"error", Attr::error, kJaeger},
      {"otel.status_code", Attr::otel_status, kOtelOld},
      {"error.type", Attr::error_type, kOtelNew},
      {"exception.type", Attr::error_type, kOtelOld},
      {"code.filepath", Attr::code_filepath, kOtelOld},
      {"code.file.path", Attr::code_filepath, kOtelNew},
      {"code.lineno", Attr::code_lineno, kOtelOld},
      {"code.line.number", Attr::code_lineno, kOtelNew},
      {"code.function", Attr::code_function, kOtelOld},
      {"code.function.name", Attr::code_function, kOtelNew},
      {"db.mongodb.collection", Attr::db_collection, kMongo},
      {"db.collection.name", Attr::db_collection, kOtelNew},
      {"db.cassandra.table", Attr::db_collection, kOtelOld},
      {"db.sql.table", Attr::db_collection, kOtelOld},
      {"messaging.system", Attr::messaging_system, kMessaging},
      {"messaging.destination", Attr::messaging_destination, kMessaging},
      {"messaging.destination.name", Attr::messaging_destination, kMessaging},
      {"messaging.operation", Attr::messaging_operation, kMessaging},
      {"messaging.operation.type", Attr::messaging_operation, kMessaging},
      {"rpc.method", Attr::rpc_method, kRpc},
      {"user_agent.original", Attr::user_agent, kOtelNew},
      {"http.user_agent", Attr::user_agent, kOtelOld},  // also Zipkin/Brave's tag
  };
}
}  // namespace

const std::vector<KeyConvention>& key_conventions() {
  static const std::vector<KeyConvention> keys = key_catalog();
  return keys;
}

namespace {
// Keys by length: a key of a length no convention has is rejected by one load.
struct KeyIndex {
  static constexpr size_t kMaxLen = 32;
  std::array<std::vector<const KeyConvention*>, kMaxLen + 1> by_length;
  KeyIndex() {
    for (const auto& k : key_conventions()) by_length[k.key.size()].push_back(&k);
  }
};
}  // namespace

Attr attribute_of(std::string_view key) {
  static const KeyIndex index;
  if (key.size() > KeyIndex::kMaxLen) return Attr::none;
  for (const KeyConvention* k : index.by_length[key.size()])
    if (k->key == key) return k->field;
  return Attr::none;
}

const std::vector<ValueConvention>& value_conventions() {
  static const std::vector<ValueConvention> values = {
      // db.system / db.system.name / db.type: any value is a datastore; these are caches.
      {Attr::db_system, "redis", Datastore::cache, kOtelOld},
      {Attr::db_system, "memcached", Datastore::cache, kOtelOld},
      {Attr::db_system, "valkey", Datastore::cache, kOtelNew},
      {Attr::db_system, "*", Datastore::database, kOtelOld},
      // OpenTracing `component` (the instrumented library).
      {Attr::component, "redis", Datastore::cache, kOpenTracing},
      {Attr::component, "ioredis", Datastore::cache, kOpenTracing},
      {Attr::component, "jedis", Datastore::cache, kOpenTracing},
      {Attr::component, "lettuce", Datastore::cache, kOpenTracing},
      {Attr::component, "memcached", Datastore::cache, kOpenTracing},
      {Attr::component, "java-jdbc", Datastore::database, kOpenTracing},
      {Attr::component, "jdbc", Datastore::database, kOpenTracing},
      {Attr::component, "pg", Datastore::database, kOpenTracing},
      {Attr::component, "postgres*", Datastore::database, kOpenTracing},
      {Attr::component, "mysql*", Datastore::database, kOpenTracing},
      {Attr::component, "mongo*", Datastore::database, kOpenTracing},
      {Attr::component, "cassandra*", Datastore::database, kOpenTracing},
      {Attr::component, "sql*", Datastore::database, kOpenTracing},
      // APM span ops (Sentry `op`, Elastic APM `span.type`).
      {Attr::op, "db.redis", Datastore::cache, kApm},
      {Attr::op, "cache*", Datastore::cache, kApm},
      {Attr::op, "db", Datastore::database, kApm},
      {Attr::op, "db.*", Datastore::database, kApm},
      // peer.service / Zipkin remoteEndpoint.serviceName naming the datastore.
      {Attr::peer_service, "redis*", Datastore::cache, kZipkin},
      {Attr::peer_service, "memcache*", Datastore::cache, kZipkin},
      {Attr::peer_service, "postgres*", Datastore::database, kZipkin},
      {Attr::peer_service, "mysql*", Datastore::database, kZipkin},
      {Attr::peer_service, "mariadb*", Datastore::database, kZipkin},
      {Attr::peer_service, "mongo*", Datastore::database, kZipkin},
      {Attr::peer_service, "cassandra*", Datastore::database, kZipkin},
      {Attr::peer_service, "oracle*", Datastore::database, kZipkin},
      {Attr::peer_service, "sqlserver*", Datastore::database, kZipkin},
      {Attr::peer_service, "elasticsearch*", Datastore::database, kZipkin},
      // The span's name, when nothing else says what it calls (values are compared in lower case).
      {Attr::name, "sql.query", Datastore::database, kZipkinLocal},
      {Attr::name, "cassandra.query", Datastore::database, kZipkinLocal},
      {Attr::name, "mongodb.*", Datastore::database, kZipkinLocal},
      {Attr::name, "mongo.*", Datastore::database, kZipkinLocal},
      {Attr::name, "elasticsearch.*", Datastore::database, kZipkinLocal},
      {Attr::name, "redis.*", Datastore::cache, kZipkinLocal},
      {Attr::name, "memcached.*", Datastore::cache, kZipkinLocal},
      {Attr::name, "pdo::*", Datastore::database, kPhp},
      {Attr::name, "pdo->*", Datastore::database, kPhp},
      {Attr::name, "pdo.*", Datastore::database, kPhp},
      {Attr::name, "pdostatement::*", Datastore::database, kPhp},
      {Attr::name, "pdostatement->*", Datastore::database, kPhp},
      {Attr::name, "pdostatement.*", Datastore::database, kPhp},
      {Attr::name, "doctrine\\dbal*", Datastore::database, kPhp},
      {Attr::name, "doctrine.dbal*", Datastore::database, kPhp},
  };
  return values;
}

namespace {

// ASCII lower case, inline: std::tolower consults the locale on every character.
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

bool equals_lower(std::string_view text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (lower(text[i]) != pattern[i]) return false;
  return true;
}

bool value_matches(std::string_view value, std::string_view pattern) {
  if (value.empty()) return false;
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return value.size() >= pattern.size() && equals_lower(value.substr(0, pattern.size()), pattern);
  }
  return equals_lower(value, pattern);
}

// The value conventions by the field they read: a lookup scans only its field's few entries.
struct ValueIndex {
  std::vector<std::vector<const ValueConvention*>> by_field;
  ValueIndex() {
    for (const auto& v : value_conventions()) {
      auto f = static_cast<size_t>(v.field);
      if (f >= by_field.size()) by_field.resize(f + 1);
      by_field[f].push_back(&v);
    }
  }
};

Datastore lookup(Attr field, std::string_view value) {
  static const ValueIndex index;
  auto f = static_cast<size_t>(field);
  if (value.empty() || f >= index.by_field.size()) return Datastore::none;
  for (const ValueConvention* v : index.by_field[f])
    if (value_matches(value, v->value)) return v->kind;
  return Datastore::none;
}

}  // namespace

Datastore datastore_of(const RawSpan& s) {
  if (Datastore d = lookup(Attr::db_system, s.db_system); d != Datastore::none) return d;
  if (!s.db_statement.empty()) return Datastore::database;
  for (auto [field, value] : {std::pair{Attr::op, s.op},
                              {Attr::component, s.component},
                              {Attr::peer_service, s.peer_service_or_remote()},
                              {Attr::name, s.name}})
    if (Datastore d = lookup(field, value); d != Datastore::none) return d;
  // A client span of the datastore's own tracer (Jaeger HotROD's "redis" and "mysql" services):
  // its service names the datastore.
  if (s.kind == SpanKind::client) return lookup(Attr::peer_service, s.service);
  return Datastore::none;
}

std::string_view datastore_name(const RawSpan& s) {
  if (!s.db_system.empty()) return s.db_system;
  for (std::string_view v : {s.peer_service_or_remote(), s.component, s.op})
    if (!v.empty()) return v;
  if (s.kind == SpanKind::client && lookup(Attr::peer_service, s.service) != Datastore::none)
    return s.service;
  // Named by the span alone: its first word ("mongodb.find" is mongodb, "PDO::query" pdo).
  if (lookup(Attr::name, s.name) != Datastore::none) {
    std::string_view n = s.name.substr(0, s.name.find_first_of(".:-\\>"));
    if (!n.empty()) return n;
  }
  return "db";
}

namespace {
// Span names of connection-pool waits: acquiring a connection (or a pooled client) before a query.
// Data with sources: the names the common instrumentations give these spans.
constexpr std::array<std::string_view, 10> kPoolWaitNames = {
    "pg-pool.connect",           // @opentelemetry/instrumentation-pg
    "pg.connect",                // @opentelemetry/instrumentation-pg
    "mysql.getconnection",       // instrumentation-mysql (pool.getConnection)
    "mysql2.getconnection",      // instrumentation-mysql2
    "hikaripool.getconnection",  // Java agents' HikariCP spans
    "getconnection",             // JDBC DataSource.getConnection (Elastic, Datadog agents)
    "connection.acquire",        // knex / generic-pool
    "pool.acquire",              // generic-pool, sequelize
    "acquire connection",        // Sentry SDKs
    "db.connection.acquire",     // APM span op
};
}  // namespace

bool is_pool_wait(std::string_view name) {
  for (std::string_view n : kPoolWaitNames)
    if (equals_lower(name, n)) return true;
  return false;
}

// PHP PDO (`PDO::prepare`, `PDO->prepare`) and Doctrine DBAL (`Doctrine\DBAL\Connection::prepare`)
// name the span that sends a statement for a later execute span by the word "prepare".
bool prepares_statement(std::string_view name) {
  constexpr std::string_view kWord = "prepare";
  for (size_t i = 0; i + kWord.size() <= name.size(); ++i)
    if (equals_lower(name.substr(i, kWord.size()), kWord)) return true;
  return false;
}

}  // namespace cp::traces
