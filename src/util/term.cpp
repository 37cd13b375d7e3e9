#include "util/term.hpp"

#include <unistd.h>

#include <cstdlib>

namespace cp {

bool is_tty(std::FILE* stream) {
  return ::isatty(::fileno(stream)) == 1;
}

bool use_color(std::FILE* stream) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return is_tty(stream);
}

std::string Style::paint(std::string_view text, std::string_view sgr) const {
  if (!enabled) return std::string(text);
  std::string out = "\x1b[";
  out += sgr;
  out += 'm';
  out += text;
  out += "\x1b[0m";
  return out;
}

}  // namespace cp
