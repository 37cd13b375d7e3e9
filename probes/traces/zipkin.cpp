// Zipkin v2 JSON: an array of spans (endpoints, tags, microseconds; client and server halves of a
// call may share one id). Zipkin v1 (annotations, binaryAnnotations) is refused by name.
#include "probes/traces/span_fields.hpp"

namespace cp::traces::scan {

namespace {

SpanKind upper_kind(std::string_view k) {  // Zipkin
  if (k == "SERVER") return SpanKind::server;
  if (k == "CLIENT") return SpanKind::client;
  if (k == "PRODUCER") return SpanKind::producer;
  if (k == "CONSUMER") return SpanKind::consumer;
  return SpanKind::unspecified;
}

// The remote endpoint: its service name, and its address and port when no tag gave them.
void read_zipkin_remote_endpoint(std::string_view k, ondemand::value v, RawSpan& s) {
  if (k == "serviceName") {
    s.remote_service = v.get_string();
  } else if ((k == "ipv4" || k == "ipv6") && s.peer.empty()) {
    s.peer = v.get_string();
  } else if (k == "port" && !s.peer_port) {
    int64_t port = i64(v);
    s.peer_port = port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
  }
}

// Zipkin v1 puts endpoints in annotations ("cs", "sr", …) and tags in binaryAnnotations: read as v2,
// its spans would have no kind, no service and no duration semantics — a wrong verdict. Refused by name.
const char* const kZipkinV1 =
    "this is Zipkin v1 JSON (annotations with endpoints, binaryAnnotations), which chokepoint does not read: "
    "export Zipkin v2 instead (Zipkin's GET /api/v2/traces, or the v2 JSON encoder of the tracer)";

}  // namespace

void read_zipkin_span(ondemand::object item, Emitter& e) {
  RawSpan s;
  bool has_trace = false, has_start = false, has_duration = false;
  int64_t duration_us = 0;
  for (auto field : item) {
    std::string_view k = field.unescaped_key();
    if (k == "traceId") {
      s.trace = parse_trace_id(id_text(field.value()));
      has_trace = true;
    } else if (k == "binaryAnnotations") {
      throw ShapeError{kZipkinV1};
    } else if (k == "annotations") {
      for (auto annotation : field.value().get_array())
        for (auto af : annotation.get_object())
          if (std::string_view(af.unescaped_key()) == "endpoint") throw ShapeError{kZipkinV1};
    } else if (k == "id") {
      s.id = parse_span_id(id_text(field.value()));
    } else if (k == "parentId") {
      s.parent = parse_span_id(id_text(field.value()));
    } else if (k == "name") {
      s.name = field.value().get_string();
    } else if (k == "kind") {
      s.kind = upper_kind(field.value().get_string());
    } else if (k == "timestamp") {
      s.start_ns = static_cast<int64_t>(u64(field.value())) * 1000;
      has_start = true;
    } else if (k == "duration") {
      duration_us = static_cast<int64_t>(u64(field.value()));
      has_duration = true;
    } else if (k == "localEndpoint") {  // its address names the host
      for (auto f : field.value().get_object()) {
        std::string_view ek = f.unescaped_key();
        if (ek == "serviceName")
          s.service = f.value().get_string();
        else if ((ek == "ipv4" || ek == "ipv6") && s.host.empty())
          s.host = f.value().get_string();
      }
    } else if (k == "remoteEndpoint") {
      for (auto f : field.value().get_object()) read_zipkin_remote_endpoint(f.unescaped_key(), f.value(), s);
    } else if (k == "tags") {
      for (auto tag : field.value().get_object()) {
        std::string_view key = tag.unescaped_key();
        std::string_view str = tag.value().get_string();
        apply_attribute(s, key, str, 0, false, false);
        if (key == "error") s.error = true;  // Zipkin: the tag's presence means an error
      }
    }
  }
  if (!has_trace) throw ShapeError{"a Zipkin span without traceId"};
  s.timed = has_start && has_duration;
  s.end_ns = s.start_ns + duration_us * 1000;
  e.pending.push_back(s);
  e.flush("unknown_service");
}

}  // namespace cp::traces::scan
