// Jaeger JSON (the query service's and the UI's export): trace objects with spans and processes.
#include "probes/traces/span_fields.hpp"

namespace cp::traces::scan {

namespace {

void read_jaeger_tag(ondemand::object tag, RawSpan& s) {
  std::string_view key, str;
  int64_t num = 0;
  bool is_num = false, flag = false;
  for (auto field : tag) {
    std::string_view k = field.unescaped_key();
    if (k == "key") {
      key = field.value().get_string();
    } else if (k == "value") {
      ondemand::value v = field.value();
      switch (v.type()) {
        case ondemand::json_type::string:
          str = v.get_string();
          break;
        case ondemand::json_type::boolean:
          flag = v.get_bool();
          break;
        case ondemand::json_type::number:
          num = i64(v);
          is_num = true;
          break;
        default:
          break;
      }
    }
  }
  apply_attribute(s, key, str, num, is_num, flag);
}

struct JaegerProcess {
  std::string_view service, host;
};

// A process: its serviceName, and its host from the client's `hostname` tag.
JaegerProcess read_jaeger_process(ondemand::object process) {
  JaegerProcess p;
  for (auto pf : process) {
    std::string_view k = pf.unescaped_key();
    if (k == "serviceName") {
      p.service = pf.value().get_string();
    } else if (k == "tags") {
      for (auto tag : pf.value().get_array()) {
        std::string_view key, value;
        for (auto tf : tag.get_object()) {
          std::string_view tk = tf.unescaped_key();
          if (tk == "key") {
            key = tf.value().get_string();
          } else if (tk == "value") {
            ondemand::value v = tf.value();
            if (v.type() == ondemand::json_type::string) value = v.get_string();
          }
        }
        if (key == "hostname") p.host = value;
      }
    }
  }
  return p;
}

struct JaegerSpan {
  RawSpan span;
  std::string_view process_id;
};

// A reference to the parent: CHILD_OF, or FOLLOWS_FROM when there is no CHILD_OF.
void read_jaeger_reference(ondemand::object ref, RawSpan& s) {
  std::string_view type, id;
  for (auto rf : ref) {
    std::string_view rk = rf.unescaped_key();
    if (rk == "refType")
      type = rf.value().get_string();
    else if (rk == "spanID")
      id = id_text(rf.value());
  }
  if (type == "CHILD_OF" || (s.parent == 0 && type == "FOLLOWS_FROM")) s.parent = parse_span_id(id);
}

JaegerSpan read_jaeger_span(ondemand::object span) {
  JaegerSpan js;
  RawSpan& s = js.span;
  bool has_trace = false;
  s.timed = false;
  for (auto sf : span) {
    std::string_view sk = sf.unescaped_key();
    if (sk == "traceID") {
      s.trace = parse_trace_id(id_text(sf.value()));
      has_trace = true;
    } else if (sk == "spanID") {
      s.id = parse_span_id(id_text(sf.value()));
    } else if (sk == "operationName") {
      s.name = sf.value().get_string();
    } else if (sk == "references") {
      for (auto ref : sf.value().get_array()) read_jaeger_reference(ref.get_object(), s);
    } else if (sk == "startTime") {
      s.start_ns = static_cast<int64_t>(u64(sf.value())) * 1000;
      s.timed = true;
    } else if (sk == "duration") {
      s.end_ns = static_cast<int64_t>(u64(sf.value())) * 1000;  // made absolute below
    } else if (sk == "tags") {
      for (auto tag : sf.value().get_array()) read_jaeger_tag(tag.get_object(), s);
    } else if (sk == "processID") {
      js.process_id = sf.value().get_string();
    } else if (sk == "process") {
      JaegerProcess p = read_jaeger_process(sf.value().get_object());
      s.service = p.service;
      s.host = p.host;
    }
  }
  if (!has_trace) throw ShapeError{"a Jaeger span without traceID"};
  s.end_ns += s.start_ns;
  return js;
}

}  // namespace

void read_jaeger_trace(ondemand::object trace, Emitter& e) {
  std::vector<JaegerSpan> spans;
  std::vector<std::pair<std::string_view, JaegerProcess>> processes;  // by id
  for (auto field : trace) {
    std::string_view k = field.unescaped_key();
    if (k == "spans") {
      for (auto item : field.value().get_array()) spans.push_back(read_jaeger_span(item.get_object()));
    } else if (k == "processes") {
      for (auto pf : field.value().get_object()) {
        std::string_view id = pf.unescaped_key();
        processes.emplace_back(id, read_jaeger_process(pf.value().get_object()));
      }
    }
  }
  for (auto& js : spans) {
    if (js.span.service.empty())
      for (const auto& [id, process] : processes)
        if (id == js.process_id) {
          js.span.service = process.service;
          js.span.host = process.host;
        }
    e.pending.push_back(js.span);
  }
  e.flush("unknown_service");
}

}  // namespace cp::traces::scan
