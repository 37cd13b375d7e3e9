// What the trace readers share (internal to readers.cpp, json_lines.cpp, mapped_lines.cpp): the
// messages, the byte order mark, and OTLP JSON Lines read line by line, from a buffer or from a
// file mapped a window at a time.
#pragma once

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "probes/traces/readers.hpp"
#include "probes/traces/span_fields.hpp"

namespace cp::traces::input {

using scan::Emitter;

extern const char* const kExpected;  // the formats read, for messages

// A UTF-8 byte order mark (editors on Windows write one): its length, to skip it.
size_t bom_length(const char* p, size_t n);
std::string simdjson_message(simdjson::error_code code, bool at_end);
// Is the first line a complete OTLP request by itself? Then the input is JSON Lines.
bool first_line_is_otlp_request(const char* data, size_t size);

// A bad line of a block read in parallel, numbered within its block: what follows "NAME:LINE: " in
// the message, once the lines before the block are counted.
struct LineFailure {
  size_t line_no;
  std::string detail;
};

// JSON Lines: each line one ExportTraceServiceRequest. Lines are parsed from a chunk buffer so a
// large file never has to fit in memory.
class LineStream {
 public:
  // `local_line_numbers`: lines are numbered within a block (LineFailure instead of ReadError).
  LineStream(const std::string& name, Emitter& e, bool local_line_numbers = false)
      : name_(name), emitter_(e), local_line_numbers_(local_line_numbers) {}

  // `unterminated`: the input's last line, without a newline (where a truncated file ends).
  void line(const char* p, size_t len, size_t capacity, size_t line_no, size_t file_offset,
            bool unterminated);

 private:
  [[noreturn]] void fail(size_t line_no, std::string detail) const;

  std::string name_;
  Emitter& emitter_;
  bool local_line_numbers_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;  // error path only
};

// A regular file's JSON Lines, mapped a window at a time (mapped_lines.cpp); nullopt when the file is
// not JSON Lines or cannot be mapped: the caller reads it instead. Throws ReadError.
std::optional<ReadStats> read_mapped_lines(int fd, size_t size, const std::string& name,
                                           const SpanSink& sink, const ReadOptions& options);

// Where JSON Lines come from for the parallel reader (parallel_lines.cpp): a buffer in memory
// (padded), a regular file mapped a block at a time, or a stream read in chunks.
struct LineSource {
  const char* data = nullptr;  // a buffer: its bytes, `size` of them, `capacity` readable
  size_t capacity = 0;
  int fd = -1;  // a regular file of `size` bytes
  size_t size = 0;
  std::FILE* stream = nullptr;  // a stream; `prefix` (its first bytes, already read) comes first
  std::string_view prefix;
  bool prefix_eof = false;  // the stream ended within the prefix
  size_t block_bytes = 0;   // 0: 2 MiB
};

// JSON Lines on `threads` workers: blocks cut at line ends are parsed in parallel and handed to
// `sink` in file order, on the calling thread: the same spans, offsets, counts and errors as read line
// by line. Throws ReadError.
ReadStats read_lines_parallel(const LineSource& source, const std::string& name, const SpanSink& sink,
                              unsigned threads);


}  // namespace cp::traces::input
