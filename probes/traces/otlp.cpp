// OTLP/JSON: ExportTraceServiceRequest objects (protobuf's JSON mapping: hex or base64 ids, int64 as
// strings or numbers, kind as a number or SPAN_KIND_*; ids of any other text are hashed, scan.hpp);
// attribute values the rules do not use are never parsed.
#include "probes/traces/span_fields.hpp"

namespace cp::traces::scan {

namespace {

SpanKind otlp_kind(ondemand::value v) {
  if (v.type() == ondemand::json_type::number) return otlp_span_kind(v.get_uint64());
  std::string_view k = v.get_string();
  if (k == "SPAN_KIND_SERVER") return SpanKind::server;
  if (k == "SPAN_KIND_CLIENT") return SpanKind::client;
  if (k == "SPAN_KIND_PRODUCER") return SpanKind::producer;
  if (k == "SPAN_KIND_CONSUMER") return SpanKind::consumer;
  if (k == "SPAN_KIND_INTERNAL") return SpanKind::internal;
  return SpanKind::unspecified;
}

void read_otlp_attribute(ondemand::object attr, RawSpan& s) {
  Attr which = Attr::none;
  std::string_view str;
  int64_t num = 0;
  bool is_num = false, flag = false;
  for (auto field : attr) {
    ondemand::raw_json_string k = field.key();
    if (key_is(k, "key")) {
      // An escaped key cannot be one of the wanted ones; neither is skipped further.
      auto raw_key = plain_key(field.value().get_raw_json_string());
      which = raw_key ? attribute_of(*raw_key) : Attr::none;
      if (which == Attr::none) return;  // the value is never parsed
    } else if (key_is(k, "value")) {
      for (auto vf : field.value().get_object()) {
        ondemand::raw_json_string vk = vf.key();
        if (key_is(vk, "stringValue"))
          str = vf.value().get_string();
        else if (key_is(vk, "intValue")) {
          num = i64(vf.value());
          is_num = true;
        } else if (key_is(vk, "boolValue")) {
          flag = vf.value().get_bool();
        } else if (key_is(vk, "arrayValue")) {  // bound parameters: kept as their JSON text
          ondemand::object array_value = vf.value().get_object();
          str = array_value.raw_json();
        }
      }
    }
  }
  apply_attribute(s, which, str, num, is_num, flag);
}

// ---- OTLP ------------------------------------------------------------------------------------

void read_otlp_status(ondemand::object status, RawSpan& s) {
  for (auto field : status) {
    std::string_view k = field.unescaped_key();
    if (k == "code") {
      ondemand::value v = field.value();
      if (v.type() == ondemand::json_type::number)
        apply_otlp_status(s, v.get_uint64(), {});
      else if (std::string_view(v.get_string()) == "STATUS_CODE_ERROR")
        apply_otlp_status(s, kOtlpStatusError, {});
    } else if (k == "message") {
      apply_otlp_status(s, 0, field.value().get_string());
    }
  }
}

RawSpan read_otlp_span(ondemand::object span) {
  RawSpan s;
  bool has_trace = false, has_id = false, has_start = false, has_end = false;
  for (auto field : span) {
    ondemand::raw_json_string k = field.key();
    if (key_is(k, "traceId")) {
      s.trace = parse_raw_trace_id(raw_string(field.value()));
      has_trace = true;
    } else if (key_is(k, "spanId")) {
      s.id = parse_raw_span_id(raw_string(field.value()));
      has_id = true;
    } else if (key_is(k, "parentSpanId")) {
      s.parent = parse_raw_span_id(raw_string(field.value()));
    } else if (key_is(k, "name")) {
      s.name = field.value().get_string();
    } else if (key_is(k, "kind")) {
      s.kind = otlp_kind(field.value());
    } else if (key_is(k, "startTimeUnixNano")) {
      s.start_ns = static_cast<int64_t>(u64(field.value()));
      has_start = true;
    } else if (key_is(k, "endTimeUnixNano")) {
      s.end_ns = static_cast<int64_t>(u64(field.value()));
      has_end = true;
    } else if (key_is(k, "attributes")) {
      for (auto attr : field.value().get_array()) read_otlp_attribute(attr.get_object(), s);
    } else if (key_is(k, "status")) {
      read_otlp_status(field.value().get_object(), s);
    }
  }
  if (!has_trace || !has_id) throw ShapeError{"a span without traceId or spanId"};
  s.timed = has_start && has_end;
  return s;
}

}  // namespace

void read_otlp_resource_spans(ondemand::object rs, Emitter& e) {
  std::string_view service, host;
  for (auto field : rs) {
    std::string_view k = field.unescaped_key();
    if (k == "resource") {
      for (auto rf : field.value().get_object()) {
        if (std::string_view(rf.unescaped_key()) != "attributes") continue;
        for (auto attr : rf.value().get_array()) {
          std::string_view key, str;
          for (auto af : attr.get_object()) {
            std::string_view ak = af.unescaped_key();
            if (ak == "key")
              key = af.value().get_string();
            else if (ak == "value")
              for (auto vf : af.value().get_object())
                if (std::string_view(vf.unescaped_key()) == "stringValue") str = vf.value().get_string();
          }
          if (key == "service.name")
            service = str;
          else if (key == "host.name")
            host = str;
        }
      }
    } else if (k == "scopeSpans" || k == "instrumentationLibrarySpans") {
      for (auto scope : field.value().get_array())
        for (auto sf : scope.get_object())
          if (std::string_view(sf.unescaped_key()) == "spans")
            for (auto span : sf.value().get_array()) {
              RawSpan s = read_otlp_span(span.get_object());
              if (service.empty()) {
                e.pending.push_back(s);  // the resource comes later in this object
              } else {
                s.service = service;
                s.host = host;
                e.emit(s);
              }
            }
    }
  }
  e.flush(service.empty() ? std::string_view("unknown_service") : service, host);
}

bool read_otlp_request(ondemand::object req, Emitter& e) {
  bool seen = false;
  for (auto field : req) {
    if (std::string_view(field.unescaped_key()) != "resourceSpans") continue;
    seen = true;
    for (auto rs : field.value().get_array()) read_otlp_resource_spans(rs.get_object(), e);
  }
  return seen;
}

}  // namespace cp::traces::scan

namespace cp::traces {

// ---- the OTLP mapping, shared with the other OTLP encodings (probes/otlp: protobuf) ------------

void apply_span_attribute(RawSpan& s, std::string_view key, std::string_view str, int64_t num, bool is_num,
                          bool flag) {
  scan::apply_attribute(s, attribute_of(key), str, num, is_num, flag);
}

SpanKind otlp_span_kind(uint64_t kind) {
  switch (kind) {
    case 1:
      return SpanKind::internal;
    case 2:
      return SpanKind::server;
    case 3:
      return SpanKind::client;
    case 4:
      return SpanKind::producer;
    case 5:
      return SpanKind::consumer;
    default:
      return SpanKind::unspecified;
  }
}

void apply_otlp_status(RawSpan& s, uint64_t code, std::string_view message) {
  s.error = s.error || code == kOtlpStatusError;
  if (message.find("imeout") != std::string_view::npos || message.find("eadline") != std::string_view::npos)
    s.timeout = true;
}

}  // namespace cp::traces
