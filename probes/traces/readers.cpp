#include "probes/traces/readers.hpp"

#include "probes/traces/conventions.hpp"

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <csignal>

#include <fmt/format.h>
#include <simdjson.h>
#if defined(__SSE4_1__)
#include <immintrin.h>
#endif

namespace cp::traces {

using namespace simdjson;

const char* to_string(Format f) {
  switch (f) {
    case Format::otlp_json:
      return "otlp-json";
    case Format::otlp_jsonl:
      return "otlp-jsonl";
    case Format::jaeger:
      return "jaeger-json";
    case Format::zipkin:
      return "zipkin-v2";
  }
  return "?";
}

namespace {

// A structural problem in an otherwise valid JSON document ("spanId is not hex").
struct ShapeError {
  std::string what;
};

// ---- scalars --------------------------------------------------------------------------------

struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) {
      v['a' + i] = static_cast<int8_t>(10 + i);
      v['A' + i] = static_cast<int8_t>(10 + i);
    }
  }
};
constexpr HexTable kHex;

int hex_value(char c) {
  return kHex.v[static_cast<unsigned char>(c)];
}

// The common case on the hot path: exactly 16 hex digits, as a big-endian number.
#if defined(__SSE4_1__)
bool hex16(const char* p, uint64_t& out) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
  __m128i digit =
      _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                 _mm_cmplt_epi8(lower, _mm_set1_epi8('f' + 1)));
  if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xFFFF) return false;
  __m128i nibbles = _mm_blendv_epi8(_mm_sub_epi8(lower, _mm_set1_epi8('a' - 10)),
                                    _mm_sub_epi8(v, _mm_set1_epi8('0')), digit);
  // Each pair of nibbles to a byte (the first is the high one), then the eight bytes together.
  __m128i pairs = _mm_maddubs_epi16(nibbles, _mm_set1_epi16(0x0110));
  out = __builtin_bswap64(static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_packus_epi16(pairs, pairs))));
  return true;
}
#else
bool hex16(const char* p, uint64_t& out) {
  uint64_t v = 0;
  int bad = 0;
  for (int i = 0; i < 16; ++i) {
    int d = kHex.v[static_cast<unsigned char>(p[i])];
    bad |= d;
    v = (v << 4) | static_cast<uint64_t>(d & 0xF);
  }
  out = v;
  return bad >= 0;
}
#endif

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Up to 16 bytes of an id in hex (OTLP/JSON spec, Jaeger, Zipkin) or base64 (protobuf's default
// JSON mapping), as big-endian bytes.
bool decode_id(std::string_view s, uint8_t out[16], size_t& n) {
  n = 0;
  bool hex = !s.empty() && s.size() % 2 == 0 && s.size() <= 32;
  for (char c : s) hex = hex && hex_value(c) >= 0;
  if (hex) {
    for (size_t i = 0; i < s.size(); i += 2)
      out[n++] = static_cast<uint8_t>(hex_value(s[i]) * 16 + hex_value(s[i + 1]));
    return true;
  }
  if (s.size() != 12 && s.size() != 24) return false;  // base64 of 8 or 16 bytes
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = base64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= 16) return false;
      out[n++] = static_cast<uint8_t>((acc >> bits) & 0xFF);
    }
  }
  return n == 8 || n == 16;
}

uint64_t bytes_to_u64(const uint8_t* b, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | b[i];
  return v;
}

uint64_t parse_span_id(std::string_view s, const char* field) {
  if (s.empty()) return 0;
  uint64_t fast;
  if (s.size() == 16 && hex16(s.data(), fast)) return fast;
  uint8_t b[16];
  size_t n;
  if (!decode_id(s, b, n) || n > 8)
    throw ShapeError{
        fmt::format("{} \"{}\" is neither 16 hex digits nor base64 of 8 bytes", field, s.substr(0, 40))};
  return bytes_to_u64(b, n);
}

TraceId parse_trace_id(std::string_view s) {
  TraceId fast;
  if (s.size() == 32 && hex16(s.data(), fast.hi) && hex16(s.data() + 16, fast.lo)) return fast;
  uint8_t b[16];
  size_t n;
  if (s.empty() || !decode_id(s, b, n))
    throw ShapeError{fmt::format("traceId \"{}\" is neither hex nor base64 of 16 bytes", s.substr(0, 40))};
  if (n <= 8) return {0, bytes_to_u64(b, n)};  // 64-bit trace ids (Zipkin, Jaeger)
  return {bytes_to_u64(b, n - 8), bytes_to_u64(b + n - 8, 8)};
}

// No '"' among 16 bytes (the padded document always has them), eight at a time.
bool no_quote_in_16(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  constexpr uint64_t kQuotes = kOnes * '"';
  uint64_t a, b;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  a ^= kQuotes;
  b ^= kQuotes;
  return !(((a - kOnes) & ~a & kHigh) | ((b - kOnes) & ~b & kHigh));
}

// An id's text straight from the JSON (ids are hex or base64: never escaped).
std::string_view raw_string(ondemand::value v) {
  const char* p = ondemand::raw_json_string(v.get_raw_json_string()).raw();
  // The closing quote of a valid JSON string is within the (padded) document; an escape in an id
  // makes it undecodable, which the id parser reports.
  // Most ids are 16 or 32 hex digits: look there before searching.
  if (p[16] == '"' && no_quote_in_16(p)) return {p, 16};
  if (p[32] == '"' && no_quote_in_16(p) && no_quote_in_16(p + 16)) return {p, 32};
  const char* end = static_cast<const char*>(std::memchr(p, '"', 256));
  if (!end) throw ShapeError{"an id longer than 256 characters"};
  return {p, static_cast<size_t>(end - p)};
}

// Eight ASCII digits at once (SWAR), or false when they are not all digits.
bool eight_digits(const char* p, uint64_t& out) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ull;
  if (((v & kHigh) | (((v + 0x0606060606060606ull) & kHigh) >> 4)) != 0x3333333333333333ull) return false;
  v -= 0x3030303030303030ull;
  v = v * 10 + (v >> 8);
  out = ((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
         ((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >>
        32;
  return true;
}

// 1 to 19 plain digits, quoted or not, straight from the JSON text (the value is left unread).
bool plain_digits(std::string_view token, uint64_t& out) {
  bool quoted = !token.empty() && token[0] == '"';
  size_t i = quoted ? 1 : 0, end = i;
  uint64_t v = 0, chunk;
  while (end - i <= 8 && end + 8 <= token.size() && eight_digits(token.data() + end, chunk)) {
    v = v * 100000000 + chunk;
    end += 8;
  }
  while (end < token.size() && end - i < 19 && static_cast<unsigned char>(token[end] - '0') < 10)
    v = v * 10 + static_cast<uint64_t>(token[end++] - '0');
  if (end == i) return false;
  bool closed = quoted ? end < token.size() && token[end] == '"'
                       : end == token.size() || token[end] == ' ' || token[end] == '\n' ||
                             token[end] == '\r' || token[end] == '\t';
  out = v;
  return closed;
}

// A number that is not an integer, from its text (simdjson 3.0's number::as_double loses long
// mantissas), within the int64 range.
int64_t fractional(std::string_view token) {
  double d = 0;
  std::from_chars(token.data(), token.data() + token.size(), d);
  if (!(d == d)) return 0;
  return d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : static_cast<int64_t>(d);
}

// A JSON number as int64: integers as they are, fractions truncated.
int64_t number_i64(ondemand::number num, std::string_view token) {
  switch (num.get_number_type()) {
    case ondemand::number_type::unsigned_integer:
      return static_cast<int64_t>(num.get_uint64());
    case ondemand::number_type::signed_integer:
      return num.get_int64();
    default:
      return fractional(token);
  }
}

// 64-bit numbers arrive as JSON numbers or strings (OTLP's int64 mapping).
int64_t i64(ondemand::value v) {
  std::string_view token = v.raw_json_token();
  uint64_t fast;
  if (plain_digits(token, fast)) return static_cast<int64_t>(fast);
  if (v.type() == ondemand::json_type::string) return v.get_int64_in_string();
  return number_i64(v.get_number(), token);
}

// The same unsigned (timestamps, durations): negative ones are 0.
uint64_t u64(ondemand::value v) {
  std::string_view token = v.raw_json_token();
  uint64_t fast;
  if (plain_digits(token, fast)) return fast;
  if (v.type() == ondemand::json_type::string) return v.get_uint64_in_string();
  ondemand::number num = v.get_number();
  if (num.get_number_type() == ondemand::number_type::unsigned_integer) return num.get_uint64();
  return static_cast<uint64_t>(std::max<int64_t>(0, number_i64(num, token)));
}

// ---- semantic conventions ------------------------------------------------------------------

bool mentions_timeout(std::string_view s) {
  return s.find("imeout") != std::string_view::npos || s.find("TIMEOUT") != std::string_view::npos ||
         s.find("eadline") != std::string_view::npos;
}

void apply_attribute(RawSpan& s, Attr attr, std::string_view str, int64_t num, bool is_num, bool flag) {
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
    case Attr::http_status:
      s.http_status = is_num ? static_cast<int>(num) : std::atoi(std::string(str).c_str());
      return;
    case Attr::otel_status:
      s.error = s.error || str == "ERROR";
      return;
  }
}

// Jaeger and Zipkin tags: by key.
void apply_attribute(RawSpan& s, std::string_view key, std::string_view str, int64_t num, bool is_num,
                     bool flag) {
  apply_attribute(s, attribute_of(key), str, num, is_num, flag);
}

SpanKind otlp_kind(ondemand::value v) {
  if (v.type() == ondemand::json_type::number) {
    switch (v.get_uint64()) {
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
  std::string_view k = v.get_string();
  if (k == "SPAN_KIND_SERVER") return SpanKind::server;
  if (k == "SPAN_KIND_CLIENT") return SpanKind::client;
  if (k == "SPAN_KIND_PRODUCER") return SpanKind::producer;
  if (k == "SPAN_KIND_CONSUMER") return SpanKind::consumer;
  if (k == "SPAN_KIND_INTERNAL") return SpanKind::internal;
  return SpanKind::unspecified;
}

SpanKind upper_kind(std::string_view k) {  // Zipkin
  if (k == "SERVER") return SpanKind::server;
  if (k == "CLIENT") return SpanKind::client;
  if (k == "PRODUCER") return SpanKind::producer;
  if (k == "CONSUMER") return SpanKind::consumer;
  return SpanKind::unspecified;
}

// OTLP AnyValue: {"stringValue": …} | {"intValue": "200" or 200} | {"boolValue": true} | …
// Keys are compared raw (OTLP keys never hold escapes): no unescaping on the hot path.
// The key's text is followed by its closing quote, and the padded document holds the name's length
// after it: one fixed-size comparison, no loop.
template <size_t N>
bool key_is(ondemand::raw_json_string key, const char (&name)[N]) {
  const char* r = key.raw();
  return std::memcmp(r, name, N - 1) == 0 && r[N - 1] == '"';
}

// The key as it stands in the JSON text; nullopt when it holds an escape (then it is unescaped).
std::optional<std::string_view> plain_key(ondemand::raw_json_string raw) {
  const char* p = raw.raw();
#if defined(__SSE4_1__)
  // Sixteen bytes at a time (the padded document has them): the first quote or backslash.
  for (size_t at = 0;; at += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    unsigned quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
    unsigned escapes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    if (!(quotes | escapes)) continue;
    unsigned first = static_cast<unsigned>(__builtin_ctz(quotes | escapes));
    if (escapes & (1u << first)) return std::nullopt;
    return std::string_view(p, at + first);
  }
#endif
  size_t n = 0;
  while (p[n] != '"') {
    if (p[n] == '\\') return std::nullopt;
    ++n;
  }
  return std::string_view(p, n);
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
        s.error = s.error || v.get_uint64() == 2;
      else
        s.error = s.error || std::string_view(v.get_string()) == "STATUS_CODE_ERROR";
    } else if (k == "message") {
      std::string_view m = field.value().get_string();
      if (m.find("imeout") != std::string_view::npos || m.find("eadline") != std::string_view::npos)
        s.timeout = true;
    }
  }
}

RawSpan read_otlp_span(ondemand::object span) {
  RawSpan s;
  bool has_trace = false, has_id = false, has_start = false, has_end = false;
  for (auto field : span) {
    ondemand::raw_json_string k = field.key();
    if (key_is(k, "traceId")) {
      s.trace = parse_trace_id(raw_string(field.value()));
      has_trace = true;
    } else if (key_is(k, "spanId")) {
      s.id = parse_span_id(raw_string(field.value()), "spanId");
      has_id = true;
    } else if (key_is(k, "parentSpanId")) {
      s.parent = parse_span_id(raw_string(field.value()), "parentSpanId");
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

void read_otlp_resource_spans(ondemand::object rs, Emitter& e) {
  std::string_view service;
  for (auto field : rs) {
    std::string_view k = field.unescaped_key();
    if (k == "resource") {
      for (auto rf : field.value().get_object()) {
        if (std::string_view(rf.unescaped_key()) != "attributes") continue;
        for (auto attr : rf.value().get_array()) {
          RawSpan tmp;
          std::string_view key, str;
          for (auto af : attr.get_object()) {
            std::string_view ak = af.unescaped_key();
            if (ak == "key")
              key = af.value().get_string();
            else if (ak == "value")
              for (auto vf : af.value().get_object())
                if (std::string_view(vf.unescaped_key()) == "stringValue") str = vf.value().get_string();
          }
          if (key == "service.name") service = str;
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
                e.emit(s);
              }
            }
    }
  }
  e.flush(service.empty() ? std::string_view("unknown_service") : service);
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

// ---- Jaeger ----------------------------------------------------------------------------------

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

struct JaegerSpan {
  RawSpan span;
  std::string_view process_id;
};

void read_jaeger_trace(ondemand::object trace, Emitter& e) {
  std::vector<JaegerSpan> spans;
  std::vector<std::pair<std::string_view, std::string_view>> processes;  // id -> serviceName
  for (auto field : trace) {
    std::string_view k = field.unescaped_key();
    if (k == "spans") {
      for (auto item : field.value().get_array()) {
        JaegerSpan js;
        RawSpan& s = js.span;
        bool has_trace = false;
        s.timed = false;
        for (auto sf : item.get_object()) {
          std::string_view sk = sf.unescaped_key();
          if (sk == "traceID") {
            s.trace = parse_trace_id(sf.value().get_string());
            has_trace = true;
          } else if (sk == "spanID") {
            s.id = parse_span_id(sf.value().get_string(), "spanID");
          } else if (sk == "operationName") {
            s.name = sf.value().get_string();
          } else if (sk == "references") {
            for (auto ref : sf.value().get_array()) {
              std::string_view type, id;
              for (auto rf : ref.get_object()) {
                std::string_view rk = rf.unescaped_key();
                if (rk == "refType")
                  type = rf.value().get_string();
                else if (rk == "spanID")
                  id = rf.value().get_string();
              }
              if (type == "CHILD_OF" || (s.parent == 0 && type == "FOLLOWS_FROM"))
                s.parent = parse_span_id(id, "references.spanID");
            }
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
            for (auto pf : sf.value().get_object())
              if (std::string_view(pf.unescaped_key()) == "serviceName") s.service = pf.value().get_string();
          }
        }
        if (!has_trace) throw ShapeError{"a Jaeger span without traceID"};
        s.end_ns += s.start_ns;
        spans.push_back(js);
      }
    } else if (k == "processes") {
      for (auto pf : field.value().get_object()) {
        std::string_view id = pf.unescaped_key();
        for (auto f : pf.value().get_object())
          if (std::string_view(f.unescaped_key()) == "serviceName")
            processes.emplace_back(id, f.value().get_string());
      }
    }
  }
  for (auto& js : spans) {
    if (js.span.service.empty())
      for (const auto& [id, name] : processes)
        if (id == js.process_id) js.span.service = name;
    e.pending.push_back(js.span);
  }
  e.flush("unknown_service");
}

// ---- Zipkin v2 -------------------------------------------------------------------------------

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

void read_zipkin_span(ondemand::object item, Emitter& e) {
  RawSpan s;
  bool has_trace = false, has_start = false, has_duration = false;
  int64_t duration_us = 0;
  for (auto field : item) {
    std::string_view k = field.unescaped_key();
    if (k == "traceId") {
      s.trace = parse_trace_id(field.value().get_string());
      has_trace = true;
    } else if (k == "id") {
      s.id = parse_span_id(field.value().get_string(), "id");
    } else if (k == "parentId") {
      s.parent = parse_span_id(field.value().get_string(), "parentId");
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
    } else if (k == "localEndpoint") {
      for (auto f : field.value().get_object())
        if (std::string_view(f.unescaped_key()) == "serviceName") s.service = f.value().get_string();
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

// ---- documents ------------------------------------------------------------------------------

size_t line_of(const char* begin, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset; ++i) line += begin[i] == '\n';
  return line;
}

const char* kExpected =
    "expected OTLP/JSON ({\"resourceSpans\": …}), OTLP JSON Lines, Jaeger JSON ({\"data\": [{\"spans\": "
    "…}]}) "
    "or Zipkin v2 JSON ([{\"traceId\": …}])";

// One whole document of any format. Returns the detected format.
Format read_document(ondemand::document& doc, Emitter& e) {
  if (doc.type() == ondemand::json_type::array) {
    for (auto item : doc.get_array()) read_zipkin_span(item.get_object(), e);
    return Format::zipkin;
  }
  if (doc.type() != ondemand::json_type::object) throw ShapeError{std::string("not a trace: ") + kExpected};
  ondemand::object obj = doc.get_object();
  std::optional<Format> format;
  for (auto field : obj) {
    std::string_view k = field.unescaped_key();
    if (k == "resourceSpans") {
      for (auto rs : field.value().get_array()) read_otlp_resource_spans(rs.get_object(), e);
      format = Format::otlp_json;
    } else if (k == "data") {
      for (auto trace : field.value().get_array()) read_jaeger_trace(trace.get_object(), e);
      format = Format::jaeger;
    } else if (!format && (k == "traceID" || k == "spans" || k == "processes")) {
      // A single Jaeger trace object: start over and read it as one.
      obj.reset();
      read_jaeger_trace(obj, e);
      return Format::jaeger;
    }
  }
  if (format) return *format;
  throw ShapeError{std::string("not a trace: ") + kExpected};
}

std::string describe_error(const std::string& name, const char* base, size_t size, const char* at,
                           const std::string& what, size_t line_offset = 0) {
  if (at && at >= base && at <= base + size) {
    size_t offset = static_cast<size_t>(at - base);
    return fmt::format("{}:{}: byte {}: {}", name, line_offset ? line_offset : line_of(base, offset), offset,
                       what);
  }
  return fmt::format("{}: {}", name, what);
}

std::string simdjson_message(error_code code, bool at_end) {
  if (code == INCOMPLETE_ARRAY_OR_OBJECT || (at_end && (code == TAPE_ERROR || code == EMPTY)))
    return "the JSON ends in the middle of a document (truncated file?)";
  if (code == INCORRECT_TYPE || code == NUMBER_ERROR || code == NUMBER_OUT_OF_RANGE)
    return std::string("a value of the wrong type for a trace field (") + error_message(code) + "); " +
           kExpected;
  return std::string("invalid JSON: ") + error_message(code);
}

// JSON Lines: each line one ExportTraceServiceRequest. Lines are parsed from a chunk buffer so a
// large file never has to fit in memory.
class LineStream {
 public:
  LineStream(const std::string& name, Emitter& e) : name_(name), emitter_(e) {}

  // `unterminated`: the input's last line, without a newline (where a truncated file ends).
  void line(const char* p, size_t len, size_t capacity, size_t line_no, size_t file_offset,
            bool unterminated) {
    while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t')) --len;
    size_t skip = 0;
    while (skip < len && (p[skip] == ' ' || p[skip] == '\t')) ++skip;
    if (skip == len) return;  // blank line
    p += skip;
    len -= skip;
    capacity -= skip;
    emitter_.offset = file_offset;
    try {
      ondemand::document doc = parser_.iterate(p, len, capacity);
      if (doc.type() != ondemand::json_type::object) throw ShapeError{"expected a JSON object per line"};
      if (!read_otlp_request(doc.get_object(), emitter_))
        throw ShapeError{
            "a line without \"resourceSpans\" (OTLP JSON Lines hold one ExportTraceServiceRequest per line)"};
    } catch (const simdjson_error& err) {
      dom::element ignored;
      error_code syntax = validator_.parse(p, len, true).get(ignored);
      std::string what = unterminated && syntax
                             ? "the last line ends in the middle of a JSON document (truncated file?)"
                         : syntax ? simdjson_message(syntax, false)
                                  : simdjson_message(err.error(), false);
      throw ReadError{fmt::format("{}:{}: byte {}: {}", name_, line_no, file_offset + skip, what)};
    } catch (const ShapeError& err) {
      throw ReadError{fmt::format("{}:{}: {}", name_, line_no, err.what)};
    }
  }

 private:
  std::string name_;
  Emitter& emitter_;
  ondemand::parser parser_;
  dom::parser validator_;  // error path only
};

// Is the first line a complete OTLP request by itself? Then the input is JSON Lines. (The DOM
// parser validates the whole line.)
bool first_line_is_otlp_request(const char* data, size_t size) {
  size_t nl = 0;
  while (nl < size && data[nl] != '\n') ++nl;
  size_t start = 0;
  while (start < nl && (data[start] == ' ' || data[start] == '\t' || data[start] == '\r')) ++start;
  if (start >= nl || data[start] != '{') return false;
  if (std::string_view(data + start, nl - start).find("\"resourceSpans\"") == std::string_view::npos)
    return false;
  dom::parser parser;
  dom::element root;
  if (parser.parse(data + start, nl - start, true).get(root)) return false;
  return root.is_object() && !root["resourceSpans"].error();
}

// After a document was read: anything but whitespace left means several documents.
bool has_trailing_content(ondemand::document& doc) {
  const char* at = nullptr;
  return doc.current_location().get(at) == SUCCESS;
}

ReadStats read_whole(const std::string& name, const char* data, size_t size, size_t capacity,
                     const SpanSink& sink) {
  Emitter e{sink};
  ReadStats stats;
  stats.bytes = size;
  ondemand::parser parser;
  size_t start = 0;
  while (start < size &&
         (data[start] == ' ' || data[start] == '\n' || data[start] == '\r' || data[start] == '\t'))
    ++start;
  if (start == size) throw ReadError{name + ": the input is empty: " + kExpected};
  ondemand::document doc;
  bool started = false;  // a document that failed stage 1 has no position to ask for
  auto location = [&]() -> const char* {
    const char* at = nullptr;
    if (!started || doc.current_location().get(at) != SUCCESS) return nullptr;
    return at;
  };
  try {
    doc = parser.iterate(data, size, capacity);
    started = true;
    stats.format = read_document(doc, e);
    if (has_trailing_content(doc))
      throw ShapeError{"more than one JSON document (OTLP JSON Lines need one request per line)"};
  } catch (const simdjson_error& err) {
    const char* at = location();
    bool truncated = err.error() == INCOMPLETE_ARRAY_OR_OBJECT || !at || at >= data + size;
    // On-Demand reads lazily; the DOM parser validates everything and says what is wrong.
    dom::parser validator;
    dom::element ignored;
    error_code syntax = validator.parse(data, size, true).get(ignored);
    std::string what = syntax && syntax != CAPACITY ? simdjson_message(syntax, truncated)
                                                    : simdjson_message(err.error(), truncated);
    throw ReadError{describe_error(name, data, size, at, what)};
  } catch (const ShapeError& err) {
    throw ReadError{describe_error(name, data, size, location(), err.what)};
  }
  stats.spans = e.spans;
  return stats;
}

ReadStats read_lines_buffer(const std::string& name, const char* data, size_t size, size_t capacity,
                            const SpanSink& sink) {
  Emitter e{sink};
  LineStream lines(name, e);
  ReadStats stats{Format::otlp_jsonl, size, 0, 0};
  size_t pos = 0;
  while (pos < size) {
    const void* hit = std::memchr(data + pos, '\n', size - pos);
    size_t nl = hit ? static_cast<size_t>(static_cast<const char*>(hit) - data) : size;
    ++stats.lines;
    lines.line(data + pos, nl - pos, capacity - pos, stats.lines, pos, nl == size);
    pos = nl + 1;
  }
  stats.spans = e.spans;
  if (stats.lines <= 1) stats.format = Format::otlp_json;  // one request on one line
  return stats;
}

// A growable byte buffer that does not zero what it allocates (16 MiB per chunk would be
// written twice otherwise).
class ByteBuffer {
 public:
  explicit ByteBuffer(size_t n) : data_(new char[n]), size_(n) {}
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  void resize(size_t n) {
    if (n > size_) {
      std::unique_ptr<char[]> bigger(new char[n]);
      std::memcpy(bigger.get(), data_.get(), size_);
      data_ = std::move(bigger);
    }
    size_ = n;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_;
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f && f != stdin) std::fclose(f);
  }
};

// A regular file's JSON Lines, mapped a window at a time: no copy into a buffer, and the window's
// pages are released as it moves on, so memory stays flat however large the file. nullopt when the
// file is not JSON Lines (or cannot be mapped): the caller reads it instead.
//
// A mapped file that shrinks under the reader (copytruncate log rotation) raises SIGBUS: while the
// map is in use, that signal ends the run with a message and exit 3 instead of a crash.
char g_mapped_name[512];
extern "C" void on_sigbus(int) {
  const char head[] = "chokepoint: ";
  const char tail[] = ": the file shrank while it was being read (truncated by log rotation?)\n";
  ssize_t ignored = write(2, head, sizeof head - 1);
  ignored = write(2, g_mapped_name, strnlen(g_mapped_name, sizeof g_mapped_name));
  ignored = write(2, tail, sizeof tail - 1);
  (void)ignored;
  _exit(3);
}

class MappedLines {
 public:
  MappedLines(int fd, size_t size, const std::string& name) : fd_(fd), size_(size) {
    std::snprintf(g_mapped_name, sizeof g_mapped_name, "%s", name.c_str());
    struct sigaction sa {};
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_);
  }
  ~MappedLines() {
    unmap();
    sigaction(SIGBUS, &previous_, nullptr);
  }
  MappedLines(const MappedLines&) = delete;
  MappedLines& operator=(const MappedLines&) = delete;

  std::optional<ReadStats> read(const std::string& name, const SpanSink& sink) {
    if (!map_at(0) || !first_line_is_otlp_request(at(0), end_ - begin_)) return std::nullopt;
    Emitter e{sink};
    LineStream lines(name, e);
    ReadStats stats{Format::otlp_jsonl, size_, 0, 0};
    size_t pos = 0;  // file offset of the next line
    while (pos < size_) {
      const void* hit = std::memchr(at(pos), '\n', end_ - pos);
      size_t nl = hit ? static_cast<size_t>(static_cast<const char*>(hit) - at(0)) : end_;
      if (!hit && end_ < size_) {  // the line goes on past the window: move the window to it
        if (!map_at(pos)) throw ReadError{fmt::format("{}: cannot map: {}", name, std::strerror(errno))};
        continue;
      }
      ++stats.lines;
      size_t len = nl - pos;
      if (end_ - pos >= len + SIMDJSON_PADDING) {
        lines.line(at(pos), len, end_ - pos, stats.lines, pos, nl == size_);
      } else {  // too close to the end of the window for simdjson's padding: a padded copy
        padded_.assign(at(pos), at(pos) + len);
        padded_.resize(len + SIMDJSON_PADDING);
        lines.line(padded_.data(), len, padded_.size(), stats.lines, pos, nl == size_);
      }
      pos = nl + 1;
    }
    stats.spans = e.spans;
    if (stats.lines <= 1) stats.format = Format::otlp_json;
    return stats;
  }

 private:
  static constexpr size_t kWindow = 16u << 20;
  const char* at(size_t offset) const { return map_ + (offset - begin_); }

  // Maps [offset rounded down to a page, + window) — twice as much each time one line fills it.
  bool map_at(size_t offset) {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t start = offset / page * page;
    size_t want = kWindow;
    if (start == begin_ && map_ && end_ < size_) want = 2 * (end_ - begin_);  // one line, longer
    unmap();
    size_t len = std::min(want, size_ - start);
    void* m = mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, static_cast<off_t>(start));
    if (m == MAP_FAILED) return false;
    map_ = static_cast<const char*>(m);
    begin_ = start;
    end_ = start + len;
    return true;
  }
  void unmap() {
    if (map_) munmap(const_cast<char*>(map_), end_ - begin_);
    map_ = nullptr;
  }

  int fd_;
  size_t size_;
  struct sigaction previous_ {};
  const char* map_ = nullptr;
  size_t begin_ = 0, end_ = 0;  // the file offsets mapped
  std::vector<char> padded_;
};

}  // namespace

ReadStats read_traces_buffer(const std::string& name, const char* data, size_t size, const SpanSink& sink) {
  padded_string copy(data, size);
  if (first_line_is_otlp_request(copy.data(), size))
    return read_lines_buffer(name, copy.data(), size, size + SIMDJSON_PADDING, sink);
  return read_whole(name, copy.data(), size, size + SIMDJSON_PADDING, sink);
}

ReadStats read_traces(const std::string& path, const SpanSink& sink) {
  std::unique_ptr<std::FILE, FileCloser> file(path == "-" ? stdin : std::fopen(path.c_str(), "rb"));
  if (!file) throw ReadError{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  std::string name = path == "-" ? "<stdin>" : path;
  struct stat st {};
  if (path != "-" && fstat(fileno(file.get()), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    MappedLines mapped(fileno(file.get()), static_cast<size_t>(st.st_size), name);
    if (auto stats = mapped.read(name, sink)) return *stats;
  }

  // Chunks of the input, with simdjson's padding after the data.
  constexpr size_t kChunk = 16u << 20;
  ByteBuffer buf(kChunk + SIMDJSON_PADDING);
  size_t filled = std::fread(buf.data(), 1, kChunk, file.get());
  if (std::ferror(file.get())) throw ReadError{fmt::format("{}: read error: {}", name, std::strerror(errno))};
  bool eof = filled < kChunk;

  if (!first_line_is_otlp_request(buf.data(), filled)) {
    // A single document (OTLP/JSON, Jaeger, Zipkin): read it whole.
    while (!eof) {
      if (filled + kChunk + SIMDJSON_PADDING > buf.size()) buf.resize(2 * buf.size());  // amortized
      size_t n = std::fread(buf.data() + filled, 1, kChunk, file.get());
      filled += n;
      eof = n < kChunk;
    }
    buf.resize(filled + SIMDJSON_PADDING);
    return read_whole(name, buf.data(), filled, buf.size(), sink);
  }

  Emitter e{sink};
  LineStream lines(name, e);
  ReadStats stats{Format::otlp_jsonl, 0, 0, 0};
  size_t file_offset = 0;  // of buf[0]
  for (;;) {
    // Complete lines in the buffer; the tail (an unfinished line) moves to the front.
    size_t pos = 0;
    for (;;) {
      const void* hit = std::memchr(buf.data() + pos, '\n', filled - pos);
      size_t nl = hit ? static_cast<size_t>(static_cast<const char*>(hit) - buf.data()) : filled;
      if (nl == filled && !eof) break;
      ++stats.lines;
      lines.line(buf.data() + pos, nl - pos, buf.size() - pos, stats.lines, file_offset + pos, nl == filled);
      pos = nl + 1;
      if (pos >= filled) break;
    }
    stats.bytes = file_offset + filled;
    if (eof) break;
    size_t tail = pos < filled ? filled - pos : 0;
    std::memmove(buf.data(), buf.data() + pos, tail);
    file_offset += pos;
    // The buffer grows only for a line longer than itself; otherwise the next read fills it up.
    if (tail + SIMDJSON_PADDING >= buf.size()) buf.resize(2 * buf.size());
    size_t n = std::fread(buf.data() + tail, 1, buf.size() - SIMDJSON_PADDING - tail, file.get());
    if (std::ferror(file.get()))
      throw ReadError{fmt::format("{}: read error: {}", name, std::strerror(errno))};
    filled = tail + n;
    eof = n == 0 || std::feof(file.get());
  }
  stats.spans = e.spans;
  if (stats.lines <= 1) stats.format = Format::otlp_json;
  return stats;
}

}  // namespace cp::traces
