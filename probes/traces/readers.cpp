#include "probes/traces/readers.hpp"

#include "probes/traces/input.hpp"
#include "probes/traces/span_fields.hpp"

#include <algorithm>
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
#include <mutex>

#include <fmt/format.h>
#include <simdjson.h>
#if defined(__SSE4_1__)
#include <immintrin.h>
#endif

namespace cp::traces {

using namespace simdjson;
using namespace input;

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

// ---- ids that are not 16 or 32 hex digits (scan.hpp) ------------------------------------------

namespace scan {

namespace {

// The 128-bit product of a and b, its halves folded together (wyhash's mixing step).
uint64_t fold_mul(uint64_t a, uint64_t b) {
  __extension__ using u128 = unsigned __int128;  // GCC and Clang: no -Wpedantic warning
  u128 r = static_cast<u128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// A 64-bit hash of an id's text, one of independent ones by `seed` (after wyhash: 16 bytes a round
// through a folded 128-bit product, the length mixed in first and last).
uint64_t text_hash(std::string_view s, uint64_t seed) {
  constexpr uint64_t k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;
  auto word = [&](size_t at, size_t n) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + at, n);
    return w;
  };
  uint64_t h = fold_mul(seed ^ k1, s.size() ^ k2);
  size_t i = 0;
  for (; i + 16 <= s.size(); i += 16) h = fold_mul(word(i, 8) ^ k1, word(i + 8, 8) ^ h);
  size_t rest = s.size() - i;
  h = fold_mul(word(i, std::min<size_t>(rest, 8)) ^ k1, (rest > 8 ? word(i + 8, rest - 8) : 0) ^ h);
  return fold_mul(h ^ k3, s.size() ^ seed);
}

constexpr uint64_t kSpanSeed = 0x2d358dccaa6c78a5ull, kTraceHiSeed = 0x4f9f7b3a1c2e6d85ull,
                   kTraceLoSeed = 0x1d8e4e27c47d124full;

// Hex of any length up to `digits` (older Jaeger clients did not pad: "%x") as a number.
bool hex_number(std::string_view s, size_t digits, TraceId& out) {
  if (s.empty() || s.size() > digits) return false;
  TraceId v;
  for (char c : s) {
    int d = hex_value(c);
    if (d < 0) return false;
    v.hi = (v.hi << 4) | (v.lo >> 60);
    v.lo = (v.lo << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// OTLP's raw text of an id holding an escape: read on to its closing quote (raw_string stopped at
// the first quote) and decoded, so that it is the same text as the other readers see.
std::string_view unescaped(std::string_view raw, std::string& out) {
  if (raw.find('\\') == std::string_view::npos) return raw;
  static thread_local ondemand::parser decoder;  // only its string decoder is used
  if (error_code err = decoder.allocate(64)) throw simdjson_error(err);
  out.resize(quoted_length(raw.data()) + SIMDJSON_PADDING);
  auto* dst = reinterpret_cast<uint8_t*>(out.data());
  std::string_view text =
      decoder.unescape(ondemand::raw_json_string(reinterpret_cast<const uint8_t*>(raw.data())), dst);
  return text;
}

}  // namespace

uint64_t span_id_of(std::string_view text) {
  if (text.empty()) return 0;
  uint8_t b[16];
  size_t n;
  if (decode_id(text, b, n) && n <= 8) return bytes_to_u64(b, n);  // even hex, base64 of 8 bytes
  TraceId v;
  if (hex_number(text, 16, v)) return v.lo;
  uint64_t h = text_hash(text, kSpanSeed);
  return h ? h : 1;  // 0 is "no parent"
}

TraceId trace_id_of(std::string_view text) {
  if (text.empty()) throw ShapeError{"a span with an empty traceId"};
  uint8_t b[16];
  size_t n;
  // Even hex, base64 of 8 or 16 bytes; 64-bit trace ids (Zipkin, Jaeger) in the low half.
  if (decode_id(text, b, n)) {
    if (n <= 8) return {0, bytes_to_u64(b, n)};
    return {bytes_to_u64(b, n - 8), bytes_to_u64(b + n - 8, 8)};
  }
  TraceId v;
  if (hex_number(text, 32, v)) return v;
  return {text_hash(text, kTraceHiSeed), text_hash(text, kTraceLoSeed)};
}

std::string_view number_text(ondemand::value v) {
  if (v.type() != ondemand::json_type::number) throw simdjson_error(INCORRECT_TYPE);
  std::string_view token = v.raw_json_token();
  while (!token.empty() &&
         (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' || token.back() == '\t'))
    token.remove_suffix(1);
  return token;
}

uint64_t span_id_of_raw(std::string_view raw) {
  std::string text;
  return span_id_of(unescaped(raw, text));
}

TraceId trace_id_of_raw(std::string_view raw) {
  std::string text;
  return trace_id_of(unescaped(raw, text));
}

}  // namespace scan

namespace {

using namespace scan;

// ---- documents ------------------------------------------------------------------------------

size_t line_of(const char* begin, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset; ++i) line += begin[i] == '\n';
  return line;
}

// 1-based column of `offset` in its line, in bytes.
size_t column_of(const char* begin, size_t offset) {
  size_t col = 1;
  while (offset > 0 && begin[offset - 1] != '\n') {
    --offset;
    ++col;
  }
  return col;
}

// Is this array item a Jaeger trace object ({"traceID", "spans", "processes"}) rather than a
// Zipkin span? The object is left where it was.
bool is_jaeger_trace(ondemand::object& item) {
  bool jaeger = false;
  for (auto field : item) {
    std::string_view k = field.unescaped_key();
    if (k == "spans" || k == "processes") {
      jaeger = true;
      break;
    }
  }
  item.reset();
  return jaeger;
}

// One whole document of any format. Returns the detected format.
Format read_document(ondemand::document& doc, Emitter& e) {
  if (doc.type() == ondemand::json_type::array) {
    // Zipkin v2 spans, or (as some tools export) a bare array of Jaeger trace objects.
    Format format = Format::zipkin;
    bool first = true;
    for (auto item : doc.get_array()) {
      ondemand::object obj = item.get_object();
      if (first && is_jaeger_trace(obj)) format = Format::jaeger;
      first = false;
      if (format == Format::jaeger)
        read_jaeger_trace(obj, e);
      else
        read_zipkin_span(obj, e);
    }
    return format;
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

// "name:LINE:COLUMN: byte N: what" — where in the file, as editors count.
std::string describe_error(const std::string& name, const char* base, size_t size, const char* at,
                           const std::string& what) {
  if (at && at >= base && at <= base + size) {
    size_t offset = static_cast<size_t>(at - base);
    return fmt::format("{}:{}:{}: byte {}: {}", name, line_of(base, offset), column_of(base, offset), offset,
                       what);
  }
  return fmt::format("{}: {}", name, what);
}

// Where a truncated document ends: after its last byte that is not white space.
const char* end_of_content(const char* data, size_t size) {
  while (size > 0 && (data[size - 1] == ' ' || data[size - 1] == '\n' || data[size - 1] == '\r' ||
                      data[size - 1] == '\t'))
    --size;
  return data + size;
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
    bool ends_early = syntax == INCOMPLETE_ARRAY_OR_OBJECT || err.error() == INCOMPLETE_ARRAY_OR_OBJECT ||
                      what.find("truncated") != std::string::npos;
    if (ends_early) at = end_of_content(data, size);  // a truncated file ends where its content does
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

}  // namespace

ReadStats read_traces_buffer(const std::string& name, const char* data, size_t size, const SpanSink& sink,
                             const ReadOptions& options) {
  size_t bom = bom_length(data, size);
  data += bom;
  size -= bom;
  padded_string copy(data, size);
  if (first_line_is_otlp_request(copy.data(), size) && options.threads > 1) {
    LineSource source;
    source.data = copy.data();
    source.size = size;
    source.capacity = size + SIMDJSON_PADDING;
    source.block_bytes = options.block_bytes;
    return read_lines_parallel(source, name, sink, options.threads);
  }
  if (first_line_is_otlp_request(copy.data(), size))
    return read_lines_buffer(name, copy.data(), size, size + SIMDJSON_PADDING, sink);
  return read_whole(name, copy.data(), size, size + SIMDJSON_PADDING, sink);
}

namespace {

// Chunks of the input, with simdjson's padding after the data.
constexpr size_t kChunk = 16u << 20;

// A single document (OTLP/JSON, Jaeger, Zipkin) whose first `filled` bytes are in `buf`: read whole.
ReadStats read_rest_whole(const std::string& name, std::FILE* file, ByteBuffer& buf, size_t filled, bool eof,
                          const SpanSink& sink) {
  while (!eof) {
    if (filled + kChunk + SIMDJSON_PADDING > buf.size()) buf.resize(2 * buf.size());  // amortized
    size_t n = std::fread(buf.data() + filled, 1, kChunk, file);
    filled += n;
    eof = n < kChunk;
  }
  buf.resize(filled + SIMDJSON_PADDING);
  return read_whole(name, buf.data(), filled, buf.size(), sink);
}

// OTLP JSON Lines whose first `filled` bytes are in `buf`: complete lines are read as they come, an
// unfinished one waits for the next chunk.
ReadStats read_line_chunks(const std::string& name, std::FILE* file, ByteBuffer& buf, size_t filled, bool eof,
                           const SpanSink& sink) {
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
    size_t n = std::fread(buf.data() + tail, 1, buf.size() - SIMDJSON_PADDING - tail, file);
    if (std::ferror(file)) throw ReadError{fmt::format("{}: read error: {}", name, std::strerror(errno))};
    filled = tail + n;
    eof = n == 0 || std::feof(file);
  }
  stats.spans = e.spans;
  if (stats.lines <= 1) stats.format = Format::otlp_json;
  return stats;
}

}  // namespace

ReadStats read_traces(const std::string& path, const SpanSink& sink, const ReadOptions& options) {
  std::unique_ptr<std::FILE, FileCloser> file(path == "-" ? stdin : std::fopen(path.c_str(), "rb"));
  if (!file) throw ReadError{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  std::string name = path == "-" ? "<stdin>" : path;
  struct stat st {};
  if (path != "-" && fstat(fileno(file.get()), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    if (auto stats = read_mapped_lines(fileno(file.get()), static_cast<size_t>(st.st_size), name, sink, options))
      return *stats;
  }

  ByteBuffer buf(kChunk + SIMDJSON_PADDING);
  size_t filled = std::fread(buf.data(), 1, kChunk, file.get());
  if (std::ferror(file.get())) throw ReadError{fmt::format("{}: read error: {}", name, std::strerror(errno))};
  bool eof = filled < kChunk;
  if (size_t bom = bom_length(buf.data(), filled)) {
    std::memmove(buf.data(), buf.data() + bom, filled - bom);
    filled -= bom;
  }

  if (!first_line_is_otlp_request(buf.data(), filled))
    return read_rest_whole(name, file.get(), buf, filled, eof, sink);
  if (options.threads > 1) {
    LineSource source;
    source.stream = file.get();
    source.prefix = std::string_view(buf.data(), filled);
    source.prefix_eof = eof;
    source.block_bytes = options.block_bytes;
    return read_lines_parallel(source, name, sink, options.threads);
  }
  return read_line_chunks(name, file.get(), buf, filled, eof, sink);
}

}  // namespace cp::traces
