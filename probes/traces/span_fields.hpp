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

inline void apply_attribute(RawSpan& s, Attr attr, std::string_view str, int64_t num, bool is_num,
                            bool flag) {
  switch (attr) {
    case Attr::none:
      return;
    case Attr::error:  // Zipkin: the tag's value is the message
      s.error = s.error || flag || str == "true";
      s.timeout = s.timeout || mentions_timeout(str);
      return;
    case Attr::url:
      s.url = str;
      return;
    case Attr::target_path:
      s.target_path = str;
      return;
    case Attr::db_system:
      s.db_system = str;
      return;
    case Attr::db_params:
      s.db_params = str;
      return;
    case Attr::span_kind:
      if (str == "server")
        s.kind = SpanKind::server;
      else if (str == "client")
        s.kind = SpanKind::client;
      else if (str == "producer")
        s.kind = SpanKind::producer;
      else if (str == "consumer")
        s.kind = SpanKind::consumer;
      else if (str == "internal")
        s.kind = SpanKind::internal;
      return;
    case Attr::http_route:
      s.http_route = str;
      return;
    case Attr::error_type:
      s.timeout = s.timeout || mentions_timeout(str);
      return;
    case Attr::http_method:
      s.http_method = str;
      return;
    case Attr::peer_service:
      s.peer_service = str;
      return;
    case Attr::db_statement:
      s.db_statement = str;
      return;
    case Attr::peer:
      s.peer = str;
      return;
    case Attr::peer_port:
      if (!is_num) std::from_chars(str.data(), str.data() + str.size(), num);
      s.peer_port = num > 0 && num < 65536 ? static_cast<uint16_t>(num) : 0;
      return;
    case Attr::component:
      s.component = str;
      return;
    case Attr::op:
      s.op = str;
      return;
    case Attr::code_filepath:
      s.code_filepath = str;
      return;
    case Attr::code_lineno:
      if (!is_num) std::from_chars(str.data(), str.data() + str.size(), num);
      s.code_lineno = num;
      return;
    case Attr::code_function:
      s.code_function = str;
      return;
    case Attr::http_status:
      s.http_status = is_num ? static_cast<int>(num) : std::atoi(std::string(str).c_str());
      return;
    case Attr::otel_status:
      s.error = s.error || str == "ERROR";
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
  void flush(std::string_view service) {
    for (auto& s : pending) {
      if (s.service.empty()) s.service = service;
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
