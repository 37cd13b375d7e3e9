// Spans as the readers build them: attribute values into RawSpan fields (conventions.hpp says which
// key feeds which field), spans handed on once their service is known.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "probes/traces/conventions.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/scan.hpp"

namespace cp::traces::scan {

inline bool mentions_timeout(std::string_view s) {
  return s.find("imeout") != std::string_view::npos || s.find("TIMEOUT") != std::string_view::npos ||
         s.find("eadline") != std::string_view::npos;
}

// The attributes whose text is the field's value as it is: the field each one fills.
inline std::string_view RawSpan::*text_field(Attr attr) {
  switch (attr) {
    case Attr::url:
      return &RawSpan::url;
    case Attr::target_path:
      return &RawSpan::target_path;
    case Attr::db_system:
      return &RawSpan::db_system;
    case Attr::db_params:
      return &RawSpan::db_params;
    case Attr::http_route:
      return &RawSpan::http_route;
    case Attr::http_method:
      return &RawSpan::http_method;
    case Attr::peer_service:
      return &RawSpan::peer_service;
    case Attr::db_statement:
      return &RawSpan::db_statement;
    case Attr::peer:
      return &RawSpan::peer;
    case Attr::component:
      return &RawSpan::component;
    case Attr::op:
      return &RawSpan::op;
    case Attr::code_filepath:
      return &RawSpan::code_filepath;
    case Attr::code_function:
      return &RawSpan::code_function;
    case Attr::db_collection:
      return &RawSpan::db_collection;
    case Attr::messaging_system:
      return &RawSpan::messaging_system;
    case Attr::messaging_destination:
      return &RawSpan::messaging_destination;
    case Attr::messaging_operation:
      return &RawSpan::messaging_operation;
    case Attr::rpc_method:
      return &RawSpan::rpc_method;
    case Attr::user_agent:
      return &RawSpan::user_agent;
    default:
      return nullptr;
  }
}

// OpenTracing's span.kind tag; an unknown value leaves the kind as it was.
inline SpanKind kind_named(std::string_view name, SpanKind otherwise) {
  if (name == "server") return SpanKind::server;
  if (name == "client") return SpanKind::client;
  if (name == "producer") return SpanKind::producer;
  if (name == "consumer") return SpanKind::consumer;
  if (name == "internal") return SpanKind::internal;
  return otherwise;
}

inline void apply_attribute(RawSpan& s, Attr attr, std::string_view str, int64_t num, bool is_num,
                            bool flag) {
  if (auto field = text_field(attr)) {
    s.*field = str;
    return;
  }
  switch (attr) {
    case Attr::error:  // Zipkin: the tag's value is the message
      s.error = s.error || flag || str == "true";
      s.timeout = s.timeout || mentions_timeout(str);
      return;
    case Attr::span_kind:
      s.kind = kind_named(str, s.kind);
      return;
    case Attr::error_type:
      s.timeout = s.timeout || mentions_timeout(str);
      return;
    case Attr::peer_port:
      if (!is_num) std::from_chars(str.data(), str.data() + str.size(), num);
      s.peer_port = num > 0 && num < 65536 ? static_cast<uint16_t>(num) : 0;
      return;
    case Attr::code_lineno:
      if (!is_num) std::from_chars(str.data(), str.data() + str.size(), num);
      s.code_lineno = num;
      return;
    case Attr::http_status:
      s.http_status = is_num ? static_cast<int>(num) : std::atoi(std::string(str).c_str());
      return;
    case Attr::otel_status:
      s.error = s.error || str == "ERROR";
      return;
    default:  // none, and the text fields above
      return;
  }
}

// Jaeger and Zipkin tags: by key.
inline void apply_attribute(RawSpan& s, std::string_view key, std::string_view str, int64_t num, bool is_num,
                            bool flag) {
  apply_attribute(s, attribute_of(key), str, num, is_num, flag);
}

struct Emitter {
  const SpanSink& sink;
  size_t spans = 0;
  uint64_t offset = 0;           // of the document / line being read
  std::vector<RawSpan> pending;  // spans waiting for their service name (JSON objects are unordered)
  // A span whose service is known already goes straight out.
  void emit(RawSpan& s) {
    s.offset = offset;
    sink(s);
    ++spans;
  }
  void flush(std::string_view service, const Resource& res = {}) {
    for (auto& s : pending) {
      if (s.service.empty()) s.service = service;
      res.apply(s);
      s.offset = offset;
      sink(s);
      ++spans;
    }
    pending.clear();
  }
};

// The readers of each format (otlp.cpp, jaeger.cpp, zipkin.cpp). Throw ShapeError on a span they
// cannot read, simdjson_error on JSON they cannot parse.
void read_otlp_resource_spans(ondemand::object rs, Emitter& e);
bool read_otlp_request(ondemand::object req, Emitter& e);
void read_jaeger_trace(ondemand::object trace, Emitter& e);
void read_zipkin_span(ondemand::object item, Emitter& e);

}  // namespace cp::traces::scan
