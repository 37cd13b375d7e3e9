// What the trace readers share (internal to readers.cpp, json_lines.cpp, mapped_lines.cpp): the
// messages, the byte order mark, and OTLP JSON Lines read line by line, from a buffer or from a
// file mapped a window at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

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

// JSON Lines: each line one ExportTraceServiceRequest. Lines are parsed from a chunk buffer so a
// large file never has to fit in memory.
class LineStream {
 public:
  LineStream(const std::string& name, Emitter& e) : name_(name), emitter_(e) {}

  // `unterminated`: the input's last line, without a newline (where a truncated file ends).
  void line(const char* p, size_t len, size_t capacity, size_t line_no, size_t file_offset,
            bool unterminated);

 private:
  std::string name_;
  Emitter& emitter_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;  // error path only
};

// A regular file's JSON Lines, mapped a window at a time (mapped_lines.cpp); nullopt when the file is
// not JSON Lines or cannot be mapped: the caller reads it instead. Throws ReadError.
std::optional<ReadStats> read_mapped_lines(int fd, size_t size, const std::string& name,
                                           const SpanSink& sink);

}  // namespace cp::traces::input
