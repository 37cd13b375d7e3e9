// Trace file readers: OTLP/JSON, OTLP JSON Lines (the collector's file exporter), Jaeger JSON and
// Zipkin v2 JSON, detected from content. Streaming (simdjson On-Demand); JSON Lines are read in
// chunks so memory does not grow with the file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "probes/traces/span.hpp"

namespace cp::traces {

enum class Format { otlp_json, otlp_jsonl, jaeger, zipkin };
const char* to_string(Format f);

struct ReadStats {
  Format format = Format::otlp_json;
  size_t bytes = 0;
  size_t spans = 0;
  size_t lines = 0;  // JSON Lines only
};

// Unreadable input: the message names the file, the line or byte offset, and what was expected.
struct ReadError {
  std::string message;
};

using SpanSink = std::function<void(const RawSpan&)>;

struct ReadOptions {
  // OTLP JSON Lines are parsed on this many threads, a block of lines each, and handed to the sink
  // in file order on the calling thread: the same spans in the same order at any count. 1: the
  // calling thread reads them line by line.
  unsigned threads = 1;
  size_t block_bytes = 0;  // the blocks (0: 2 MiB); tests make them small
};

// Reads `path` ("-" = stdin) and hands every span to `sink`. Throws ReadError.
ReadStats read_traces(const std::string& path, const SpanSink& sink, const ReadOptions& options = {});

// The same on a buffer already in memory (fuzzing, tests). `name` is used in messages.
ReadStats read_traces_buffer(const std::string& name, const char* data, size_t size, const SpanSink& sink,
                             const ReadOptions& options = {});

// The OTLP mapping every OTLP encoding shares (the JSON readers here, the protobuf reader of the
// OTLP receiver): one attribute by key (semantic conventions, both generations), the numeric span
// kind, and the span status (code, message).
void apply_span_attribute(RawSpan& s, std::string_view key, std::string_view str, int64_t num, bool is_num,
                          bool flag);
SpanKind otlp_span_kind(uint64_t kind);
inline constexpr uint64_t kOtlpStatusError = 2;  // STATUS_CODE_ERROR
void apply_otlp_status(RawSpan& s, uint64_t code, std::string_view message);

}  // namespace cp::traces
