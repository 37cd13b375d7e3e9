// Scanning trace JSON on the hot path: ids (hex, base64, any other text hashed), 64-bit numbers as
// numbers or strings, keys compared in place. Shared by the OTLP, Jaeger and Zipkin readers;
// inline, because they run for every span. Compiled for x86-64-v2 with the readers (see
// CMakeLists.txt).
#pragma once

#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>
#if defined(__SSE4_1__)
#include <immintrin.h>
#endif

#include "probes/traces/span.hpp"

namespace cp::traces::scan {

using namespace simdjson;

// A structural problem in an otherwise valid JSON document ("a span without traceId").
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

inline int hex_value(char c) {
  return kHex.v[static_cast<unsigned char>(c)];
}

// The common case on the hot path: exactly 16 hex digits, as a big-endian number.
#if defined(__SSE4_1__)
inline bool hex16(const char* p, uint64_t& out) {
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
inline bool hex16(const char* p, uint64_t& out) {
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

inline int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Up to 16 bytes of an id in hex (OTLP/JSON spec, Jaeger, Zipkin) or base64 (protobuf's default
// JSON mapping), as big-endian bytes.
inline bool decode_id(std::string_view s, uint8_t out[16], size_t& n) {
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

inline uint64_t bytes_to_u64(const uint8_t* b, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | b[i];
  return v;
}

// ---- ids ------------------------------------------------------------------------------------
// Ids are opaque strings. Hex (any number of digits up to the width) and base64 of 8 or 16 bytes
// are decoded as the formats spell them; any other text ("trace-jaeger-1", "span:12", a JSON
// number's digits) is hashed to the width, the same text to the same id wherever it appears
// (readers.cpp). Only the common case is inline: 16 (span) or 32 (trace) hex digits.

// Every other span id: 0 for "" (no parent), never 0 otherwise.
uint64_t span_id_of(std::string_view text);
// Every other trace id; "" is refused (ShapeError).
TraceId trace_id_of(std::string_view text);
// The same from OTLP's raw text (raw_string): an id holding an escape is read whole and decoded first.
uint64_t span_id_of_raw(std::string_view raw);
TraceId trace_id_of_raw(std::string_view raw);

inline uint64_t parse_span_id(std::string_view s) {
  if (s.empty()) return 0;
  uint64_t fast;
  if (s.size() == 16 && hex16(s.data(), fast)) return fast;
  return span_id_of(s);
}

inline TraceId parse_trace_id(std::string_view s) {
  TraceId fast;
  if (s.size() == 32 && hex16(s.data(), fast.hi) && hex16(s.data() + 16, fast.lo)) return fast;
  return trace_id_of(s);
}

// OTLP's ids, from raw_string.
inline uint64_t parse_raw_span_id(std::string_view raw) {
  if (raw.empty()) return 0;
  uint64_t fast;
  if (raw.size() == 16 && hex16(raw.data(), fast)) return fast;
  return span_id_of_raw(raw);
}

inline TraceId parse_raw_trace_id(std::string_view raw) {
  TraceId fast;
  if (raw.size() == 32 && hex16(raw.data(), fast.hi) && hex16(raw.data() + 16, fast.lo)) return fast;
  return trace_id_of_raw(raw);
}

// No '"' among 16 bytes (the padded document always has them), eight at a time.
inline bool no_quote_in_16(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  constexpr uint64_t kQuotes = kOnes * '"';
  uint64_t a, b;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  a ^= kQuotes;
  b ^= kQuotes;
  return !(((a - kOnes) & ~a & kHigh) | ((b - kOnes) & ~b & kHigh));
}

// The length of a JSON string's text from `p` (after its opening quote) to its closing quote.
inline size_t quoted_length(const char* p) {
  size_t n = 0;
  while (p[n] != '"') n += p[n] == '\\' ? 2 : 1;
  return n;
}

// A JSON number where an id was expected (hand-written exports): its text is the id. Any other
// type is the wrong one (readers.cpp: off the hot path).
std::string_view number_text(ondemand::value v);

// An id's text straight from the JSON, up to its first quote: the whole id unless it holds an
// escape, which the id parsers' slow path reads whole (hex and base64 never hold one).
[[gnu::always_inline]] inline std::string_view raw_string(ondemand::value v) {
  ondemand::raw_json_string raw;
  if (error_code err = v.get_raw_json_string().get(raw)) {
    if (err != INCORRECT_TYPE) throw simdjson_error(err);
    return number_text(v);
  }
  const char* p = raw.raw();
  // The closing quote of a valid JSON string is within the (padded) document.
  // Most ids are 16 or 32 hex digits: look there before searching.
  if (p[16] == '"' && no_quote_in_16(p)) return {p, 16};
  if (p[32] == '"' && no_quote_in_16(p) && no_quote_in_16(p + 16)) return {p, 32};
  const char* end = static_cast<const char*>(std::memchr(p, '"', 256));
  if (!end) return {p, quoted_length(p)};  // a long id
  return {p, static_cast<size_t>(end - p)};
}

// An id in Jaeger and Zipkin: a string (unescaped), or a number's text.
inline std::string_view id_text(ondemand::value v) {
  std::string_view s;
  error_code err = v.get_string().get(s);
  if (err == SUCCESS) return s;
  if (err != INCORRECT_TYPE) throw simdjson_error(err);
  return number_text(v);
}

// Eight ASCII digits at once (SWAR), or false when they are not all digits.
inline bool eight_digits(const char* p, uint64_t& out) {
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
inline bool plain_digits(std::string_view token, uint64_t& out) {
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
inline int64_t fractional(std::string_view token) {
  double d = 0;
  std::from_chars(token.data(), token.data() + token.size(), d);
  if (!(d == d)) return 0;
  return d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : static_cast<int64_t>(d);
}

// A JSON number as int64: integers as they are, fractions truncated.
inline int64_t number_i64(ondemand::number num, std::string_view token) {
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
inline int64_t i64(ondemand::value v) {
  std::string_view token = v.raw_json_token();
  uint64_t fast;
  if (plain_digits(token, fast)) return static_cast<int64_t>(fast);
  if (v.type() == ondemand::json_type::string) return v.get_int64_in_string();
  return number_i64(v.get_number(), token);
}

// The same unsigned (timestamps, durations): negative ones are 0.
inline uint64_t u64(ondemand::value v) {
  std::string_view token = v.raw_json_token();
  uint64_t fast;
  if (plain_digits(token, fast)) return fast;
  if (v.type() == ondemand::json_type::string) return v.get_uint64_in_string();
  ondemand::number num = v.get_number();
  if (num.get_number_type() == ondemand::number_type::unsigned_integer) return num.get_uint64();
  return static_cast<uint64_t>(std::max<int64_t>(0, number_i64(num, token)));
}

// ---- semantic conventions ------------------------------------------------------------------

// OTLP AnyValue: {"stringValue": …} | {"intValue": "200" or 200} | {"boolValue": true} | …
// Keys are compared raw (OTLP keys never hold escapes): no unescaping on the hot path.
// The key's text is followed by its closing quote, and the padded document holds the name's length
// after it: one fixed-size comparison, no loop.
template <size_t N>
inline bool key_is(ondemand::raw_json_string key, const char (&name)[N]) {
  const char* r = key.raw();
  return std::memcmp(r, name, N - 1) == 0 && r[N - 1] == '"';
}

// The key as it stands in the JSON text; nullopt when it holds an escape (then it is unescaped).
inline std::optional<std::string_view> plain_key(ondemand::raw_json_string raw) {
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

}  // namespace cp::traces::scan
