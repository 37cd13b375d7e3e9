// Spans as the readers deliver them (RawSpan: views into the parser's buffer, valid for one
// callback) and as they are kept (Span: compact, strings interned).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  int http_status = 0;
  bool error = false;
  bool timeout = false;
  uint64_t offset = 0;  // where in the input it was read (bytes): how recently its trace was seen
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
  uint16_t http_status = 0;
  SpanKind kind = SpanKind::unspecified;
  SpanClass cls = SpanClass::internal;
  bool error = false;
  bool timeout = false;
  double duration_ms() const { return static_cast<double>(end_ns - start_ns) / 1e6; }
};

// Interned strings: id 0 is "".
class Interner {
 public:
  Interner() { intern(""); }
  uint32_t intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    const std::string& stored = storage_.emplace_back(s);
    uint32_t id = static_cast<uint32_t>(storage_.size() - 1);
    ids_.emplace(stored, id);
    return id;
  }
  const std::string& str(uint32_t id) const { return storage_[id]; }

 private:
  std::deque<std::string> storage_;  // stable addresses for the views in ids_
  std::unordered_map<std::string_view, uint32_t> ids_;
};

}  // namespace cp::traces
