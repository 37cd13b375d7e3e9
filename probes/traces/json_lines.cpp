// OTLP JSON Lines, one ExportTraceServiceRequest per line, and what every reader's messages share.
#include <string_view>

#include <fmt/format.h>

#include "probes/traces/input.hpp"

namespace cp::traces::input {

using namespace simdjson;
using namespace scan;

const char* const kExpected =
    "expected OTLP/JSON ({\"resourceSpans\": …}), OTLP JSON Lines, Jaeger JSON ({\"data\": [{\"spans\": "
    "…}]}) "
    "or Zipkin v2 JSON ([{\"traceId\": …}])";

size_t bom_length(const char* p, size_t n) {
  return n >= 3 && static_cast<unsigned char>(p[0]) == 0xEF && static_cast<unsigned char>(p[1]) == 0xBB &&
                 static_cast<unsigned char>(p[2]) == 0xBF
             ? 3
             : 0;
}

std::string simdjson_message(error_code code, bool at_end) {
  if (code == INCOMPLETE_ARRAY_OR_OBJECT || (at_end && (code == TAPE_ERROR || code == EMPTY)))
    return "the JSON ends in the middle of a document (truncated file?)";
  if (code == INCORRECT_TYPE || code == NUMBER_ERROR || code == NUMBER_OUT_OF_RANGE)
    return std::string("a value of the wrong type for a trace field (") + error_message(code) + "); " +
           kExpected;
  return std::string("invalid JSON: ") + error_message(code);
}

// The DOM parser validates the whole line.
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

void LineStream::line(const char* p, size_t len, size_t capacity, size_t line_no, size_t file_offset,
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
    fail(line_no, fmt::format("byte {}: {}", file_offset + skip, what));
  } catch (const ShapeError& err) {
    fail(line_no, err.what);
  }
}

void LineStream::fail(size_t line_no, std::string detail) const {
  if (local_line_numbers_) throw LineFailure{line_no, std::move(detail)};
  throw ReadError{fmt::format("{}:{}: {}", name_, line_no, detail)};
}

}  // namespace cp::traces::input
