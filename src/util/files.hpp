// Whole-file I/O with errors as values: a report is never lost half-written.
#pragma once
#include <optional>
#include <string>

namespace cp {

// Writes `content` to `path` atomically (temp file in the same directory + rename).
// Returns an error message, or nullopt on success.
std::optional<std::string> write_file_atomic(const std::string& path, const std::string& content);

struct ReadResult {
  std::optional<std::string> content;
  std::string error;  // set when content is empty
};
ReadResult read_file(const std::string& path);  // "-" reads stdin

}  // namespace cp
