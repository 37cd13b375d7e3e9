#include "probes/otlp/protobuf.hpp"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace cp::otlp {

namespace {

enum class Wire : uint8_t { varint = 0, fixed64 = 1, len = 2, start_group = 3, end_group = 4, fixed32 = 5 };

// One message's bytes. Every read checks the bounds; a violation throws DecodeError naming the
// offset in the whole body.
class Reader {
 public:
  Reader(std::string_view bytes, const char* body_start)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()), body_(body_start) {}

  // The next field's number and wire type; false at the end of the message.
  bool next(uint32_t& field, Wire& wire) {
    if (p_ >= end_) return false;
    uint64_t tag = varint();
    uint64_t number = tag >> 3, type = tag & 7;
    if (number == 0 || number > 0x1fffffff) fail(fmt::format("invalid field number {}", number));
    if (type == 3 || type == 4) fail("groups (wire types 3/4) are not part of OTLP");
    if (type > 5) fail(fmt::format("invalid wire type {}", type));
    field = static_cast<uint32_t>(number);
    wire = static_cast<Wire>(type);
    return true;
  }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("truncated varint");
      uint8_t b = static_cast<uint8_t>(*p_++);
      if (shift == 63 && b > 1) fail("varint longer than 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }

  uint64_t fixed64() {
    if (end_ - p_ < 8) fail("truncated fixed64");
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p_[i]);  // little endian
    p_ += 8;
    return v;
  }

  std::string_view bytes() {
    uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail(fmt::format("a length of {} runs past the message", n));
    std::string_view out(p_, static_cast<size_t>(n));
    p_ += n;
    return out;
  }

  Reader message() { return Reader(bytes(), body_); }

  void skip(Wire wire) {
    switch (wire) {
      case Wire::varint:
        varint();
        return;
      case Wire::fixed64:
        fixed64();
        return;
      case Wire::len:
        bytes();
        return;
      case Wire::fixed32:
        if (end_ - p_ < 4) fail("truncated fixed32");
        p_ += 4;
        return;
      default:
        fail("unexpected wire type");
    }
  }

  // The field has the wire type its definition gives it.
  void expect(uint32_t field, Wire got, Wire wanted) {
    if (got != wanted)
      fail(fmt::format("field {} has wire type {}, expected {}", field, static_cast<int>(got),
                       static_cast<int>(wanted)));
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw DecodeError{fmt::format("protobuf at byte {}: {}", p_ - body_, what)};
  }

 private:
  const char* p_;
  const char* end_;
  const char* body_;
};

uint64_t big_endian(std::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// AnyValue: string (1), bool (2), int (3) are what the rules read, and an array (5) as an opaque
// identity (bound parameters); double, kvlist and bytes are skipped.
struct AnyValue {
  std::string_view str;
  int64_t num = 0;
  bool is_num = false, flag = false, is_string = false;
};

AnyValue read_any_value(Reader r) {
  AnyValue v;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    if (f == 1 && w == Wire::len) {
      v.str = r.bytes();
      v.is_string = true;
    } else if (f == 2 && w == Wire::varint) {
      v.flag = r.varint() != 0;
    } else if (f == 3 && w == Wire::varint) {
      v.num = static_cast<int64_t>(r.varint());
      v.is_num = true;
    } else if (f == 5 && w == Wire::len) {
      // An array (bound parameters): its encoded bytes identify it, as its JSON text does in OTLP/JSON.
      v.str = r.bytes();
    } else {
      r.skip(w);
    }
  }
  return v;
}

// KeyValue: key (1), value (2), in either order.
std::pair<std::string_view, AnyValue> read_key_value(Reader r) {
  std::string_view key;
  AnyValue value;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    if (f == 1) {
      r.expect(f, w, Wire::len);
      key = r.bytes();
    } else if (f == 2) {
      r.expect(f, w, Wire::len);
      value = read_any_value(r.message());
    } else {
      r.skip(w);
    }
  }
  return {key, value};
}

// Resource: attributes (1); the service is service.name, the process host.name, process.pid (an
// int: its digits are written to `pid_text`) and container.id.
std::string_view read_resource(Reader r, traces::Resource& res, std::string& pid_text) {
  std::string_view service;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    if (f == 1 && w == Wire::len) {
      auto [key, value] = read_key_value(r.message());
      if (key == "service.name" && value.is_string) {
        service = value.str;
      } else if (value.is_num) {
        pid_text = std::to_string(value.num);
        res.note(key, pid_text);
      } else if (value.is_string) {
        res.note(key, value.str);
      }
    } else {
      r.skip(w);
    }
  }
  return service;
}

// Status: message (2), code (3).
void read_status(Reader r, traces::RawSpan& s) {
  uint64_t code = 0;
  std::string_view message;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    if (f == 2 && w == Wire::len)
      message = r.bytes();
    else if (f == 3 && w == Wire::varint)
      code = r.varint();
    else
      r.skip(w);
  }
  traces::apply_otlp_status(s, code, message);
}

traces::TraceId trace_id_of(Reader& r, std::string_view b) {
  if (b.size() != 16 && b.size() != 8) r.fail(fmt::format("trace_id of {} bytes (expected 16)", b.size()));
  if (b.size() == 8) return {0, big_endian(b)};
  return {big_endian(b.substr(0, 8)), big_endian(b.substr(8))};
}

uint64_t span_id_of(Reader& r, std::string_view b, const char* field) {
  if (b.size() != 8) r.fail(fmt::format("{} of {} bytes (expected 8)", field, b.size()));
  return big_endian(b);
}

// Span: trace_id (1), span_id (2), parent_span_id (4), name (5), kind (6), start (7), end (8),
// attributes (9), status (15).
traces::RawSpan read_span(Reader r, std::string_view service, const traces::Resource& res) {
  traces::RawSpan s;
  s.service = service;
  res.apply(s);
  bool has_trace = false, has_id = false;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    switch (f) {
      case 1:
        r.expect(f, w, Wire::len);
        s.trace = trace_id_of(r, r.bytes());
        has_trace = true;
        break;
      case 2:
        r.expect(f, w, Wire::len);
        s.id = span_id_of(r, r.bytes(), "span_id");
        has_id = true;
        break;
      case 4: {
        r.expect(f, w, Wire::len);
        std::string_view parent = r.bytes();
        s.parent = parent.empty() ? 0 : span_id_of(r, parent, "parent_span_id");
        break;
      }
      case 5:
        r.expect(f, w, Wire::len);
        s.name = r.bytes();
        break;
      case 6:
        r.expect(f, w, Wire::varint);
        s.kind = traces::otlp_span_kind(r.varint());
        break;
      case 7:
        r.expect(f, w, Wire::fixed64);
        s.start_ns = static_cast<int64_t>(r.fixed64());
        break;
      case 8:
        r.expect(f, w, Wire::fixed64);
        s.end_ns = static_cast<int64_t>(r.fixed64());
        break;
      case 9: {
        r.expect(f, w, Wire::len);
        auto [key, v] = read_key_value(r.message());
        traces::apply_span_attribute(s, key, v.str, v.num, v.is_num, v.flag);
        break;
      }
      case 15:
        r.expect(f, w, Wire::len);
        read_status(r.message(), s);
        break;
      default:
        r.skip(w);
    }
  }
  if (!has_trace || !has_id) r.fail("a span without trace_id or span_id");
  return s;
}

// ScopeSpans (and the older InstrumentationLibrarySpans): spans (2).
size_t read_scope_spans(Reader r, std::string_view service, const traces::Resource& res,
                        const traces::SpanSink& sink) {
  size_t n = 0;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    if (f == 2) {
      r.expect(f, w, Wire::len);
      sink(read_span(r.message(), service, res));
      ++n;
    } else {
      r.skip(w);
    }
  }
  return n;
}

// ResourceSpans: resource (1), scope_spans (2), instrumentation_library_spans (1000). The resource
// may follow the spans on the wire: it is looked up first.
size_t read_resource_spans(Reader r, const traces::SpanSink& sink) {
  std::string_view service;
  traces::Resource res;
  std::string pid_text;
  Reader scan = r;
  uint32_t f;
  Wire w;
  while (scan.next(f, w)) {
    if (f == 1) {
      scan.expect(f, w, Wire::len);
      service = read_resource(scan.message(), res, pid_text);
    } else {
      scan.skip(w);
    }
  }
  size_t n = 0;
  while (r.next(f, w)) {
    if (f == 2 || f == 1000) {
      r.expect(f, w, Wire::len);
      n += read_scope_spans(r.message(), service, res, sink);
    } else {
      r.skip(w);
    }
  }
  return n;
}

}  // namespace

size_t read_export_protobuf(std::string_view body, const traces::SpanSink& sink) {
  Reader r(body, body.data());
  size_t n = 0;
  uint32_t f;
  Wire w;
  while (r.next(f, w)) {
    if (f == 1) {
      r.expect(f, w, Wire::len);
      n += read_resource_spans(r.message(), sink);
    } else {
      r.skip(w);
    }
  }
  return n;
}

size_t count_spans_protobuf(std::string_view body) {
  try {
    return read_export_protobuf(body, [](const traces::RawSpan&) {});
  } catch (const DecodeError&) {
    return 0;
  }
}

}  // namespace cp::otlp
