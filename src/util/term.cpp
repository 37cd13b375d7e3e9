#include "util/term.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace cp {

bool is_tty(std::FILE* stream) {
  return ::isatty(::fileno(stream)) == 1;
}

size_t text_width(std::FILE* stream) {
  winsize ws{};
  if (!is_tty(stream) || ::ioctl(::fileno(stream), TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
    return kDefaultTextWidth;
  return std::max<size_t>(ws.ws_col, 40);  // narrower than that, nothing lines up anyway
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
