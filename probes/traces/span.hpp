// Spans as the readers deliver them (RawSpan: views into the parser's buffer, valid for one
// callback) and as they are kept (Span: compact, strings interned).
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "util/hash.hpp"

namespace cp::traces {

enum class SpanKind : uint8_t { unspecified, internal, server, client, producer, consumer };

// What a span's time is spent on, from its kind and semantic-convention attributes.
enum class SpanClass : uint8_t { request, database, cache, external, internal };

struct TraceId {
  uint64_t hi = 0, lo = 0;
  bool operator==(const TraceId&) const = default;
  bool operator<(const TraceId& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
};

struct RawSpan {
  TraceId trace;
  uint64_t id = 0;
  uint64_t parent = 0;  // 0: a root
  int64_t start_ns = 0, end_ns = 0;
  SpanKind kind = SpanKind::unspecified;
  std::string_view name, service;
  // Both generations of semantic conventions are read into these (see readers.cpp).
  std::string_view db_system, db_statement, url, http_method, http_route, peer, target_path;
  // Other conventions that say what a span calls (conventions.hpp): OpenTracing `component`,
  // `db.type`, APM span ops, the Zipkin remote endpoint's service, the peer's port, bound parameters.
  std::string_view component, op, remote_service, db_params, peer_service;
  // The collection or table a datastore call names (MongoDB, Cassandra, Elasticsearch index), the
  // messaging system, destination and operation (publish / receive), the RPC method.
  std::string_view db_collection, messaging_system, messaging_destination, messaging_operation, rpc_method;
  // The client's user agent (server spans: chokepoint's own requests are left out), and the host the
  // span was recorded on (resource host.name, Jaeger process hostname, Zipkin local address).
  std::string_view user_agent, host;
  uint16_t peer_port = 0;
  // Where in the source the span was started (code.filepath / code.file.path, code.lineno /
  // code.line.number, code.function / code.function.name), when the instrumentation records it.
  std::string_view code_filepath, code_function;
  int64_t code_lineno = 0;
  int http_status = 0;
  bool error = false;
  bool timeout = false;
  bool timed = true;    // false: no start or no duration (legal in Zipkin): excluded from timing
  uint64_t offset = 0;  // where in the input it was read (bytes): how recently its trace was seen
  // The process that emitted it (OTLP resource process.pid, container.id), when known.
  std::string_view process_pid, container_id;
  std::string_view peer_service_or_remote() const {
    return peer_service.empty() ? remote_service : peer_service;
  }
};

// The resource attributes that say which process emitted the spans.
struct Resource {
  std::string_view host, pid, container;
  void note(std::string_view key, std::string_view value) {
    if (key == "host.name")
      host = value;
    else if (key == "process.pid")
      pid = value;
    else if (key == "container.id")
      container = value;
  }
  void apply(RawSpan& s) const {
    if (s.host.empty()) s.host = host;
    s.process_pid = pid;
    s.container_id = container;
  }
};

struct Span {
  TraceId trace;
  uint64_t id = 0, parent = 0;
  int64_t start_ns = 0, end_ns = 0;
  uint32_t name = 0, service = 0;
  uint32_t route = 0;      // server spans: http.route or name
  uint32_t statement = 0;  // database / cache spans: normalized statement (0 = none)
  uint32_t target = 0;     // external spans: host (or peer service); database spans: db system
  uint32_t call = 0;       // external spans: "METHOD host/path-template"
  // Database / cache spans: a hash of the statement as sent with its parameters (or the cache
  // key), 0 when the parameters are unknown: equal identities are repeated identical calls.
  uint64_t identity = 0;
  // External spans: a hash of the URL with its id-like values templated (query included): calls to
  // one endpoint that differ only by ids share it. 0 when the call has no URL.
  uint64_t variant = 0;
  uint16_t http_status = 0;
  SpanKind kind = SpanKind::unspecified;
  SpanClass cls = SpanClass::internal;
  bool error = false;
  bool timeout = false;
  bool timed = true;
  bool statement_from_name = false;  // a datastore span without a statement: keyed by its name
  bool pool_wait = false;            // waits for a pooled connection (pg-pool.connect, getConnection)
  bool by_chokepoint = false;        // an entry span of a request chokepoint itself sent (its --http probe)
  double duration_ms() const { return static_cast<double>(end_ns - start_ns) / 1e6; }
};

// Interned strings: id 0 is ". Every span interns a few strings, so the table is open-addressed
// (one probe in a flat array, mostly) with a word-at-a-time hash.
class Interner {
 public:
  Interner() : slots_(1024) { intern(""); }
  uint32_t intern(std::string_view s) {
    uint32_t h = hash(s);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kEmpty) {
        uint32_t id = static_cast<uint32_t>(storage_.size());
        storage_.emplace_back(s);
        slot = {h, id};
        if (storage_.size() * 2 > slots_.size()) grow();
        return id;
      }
      if (slot.hash == h && storage_[slot.id] == s) return slot.id;
    }
  }
  // The id of `s` if it was interned, else kEmpty.
  uint32_t find(std::string_view s) const {
    uint32_t h = hash(s);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == kEmpty) return kEmpty;
      if (slot.hash == h && storage_[slot.id] == s) return slot.id;
    }
  }
  const std::string& str(uint32_t id) const { return storage_[id]; }
  size_t size() const { return storage_.size(); }
  static constexpr uint32_t kEmpty = ~0u;

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t id = kEmpty;
  };
  static uint32_t hash(std::string_view s) { return static_cast<uint32_t>(hash_bytes(s) >> 32); }
  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    size_t mask = bigger.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.id == kEmpty) continue;
      size_t i = slot.hash & mask;
      while (bigger[i].id != kEmpty) i = (i + 1) & mask;
      bigger[i] = slot;
    }
    slots_ = std::move(bigger);
  }

  std::deque<std::string> storage_;  // stable: str() hands out references
  std::vector<Slot> slots_;          // a power of two, at most half full
};

}  // namespace cp::traces
