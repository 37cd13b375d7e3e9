#include "util/toml_ascii.hpp"

#include <fmt/format.h>

namespace cp {

namespace {

// The code point of the UTF-8 sequence at `i` and its length, or length 0 when it is not UTF-8.
std::pair<char32_t, size_t> decode(std::string_view t, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(k < t.size() ? t[k] : 0); };
  unsigned char b = byte(i);
  size_t n = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
  if (n == 0) return {0, 0};
  char32_t c = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0, 0};
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  bool overlong = (n == 3 && c < 0x800) || (n == 4 && c < 0x10000);
  if (overlong || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {0, 0};
  return {c, n};
}

std::string escape(char32_t c) {
  return c <= 0xFFFF ? fmt::format("\\u{:04X}", static_cast<unsigned>(c))
                     : fmt::format("\\U{:08X}", static_cast<unsigned>(c));
}

class Converter {
 public:
  explicit Converter(std::string_view t) : t_(t) {}

  AsciiToml run() {
    while (i_ < t_.size() && !out_.error) step();
    return std::move(out_);
  }

 private:
  bool at(std::string_view s) const { return t_.compare(i_, s.size(), s) == 0; }
  void fail(size_t offset, std::string what) {
    out_.error = offset;
    out_.what = std::move(what);
  }
  // The non-ASCII character at i_, consumed; nullopt (and the error set) when it is not UTF-8.
  std::optional<char32_t> take_non_ascii() {
    auto [c, n] = decode(t_, i_);
    if (n == 0) {
      fail(i_, "not UTF-8");
      return std::nullopt;
    }
    i_ += n;
    return c;
  }

  void step() {
    unsigned char c = static_cast<unsigned char>(t_[i_]);
    if (c >= 0x80) return fail(i_, "a non-ASCII character outside a string or comment");
    if (c == '#') return comment();
    if (at("\"\"\"") || at("'''")) return string(3);
    if (c == '"' || c == '\'') return string(1);
    out_.text += t_[i_++];
  }

  void comment() {
    while (i_ < t_.size() && t_[i_] != '\n' && !out_.error) {
      if (static_cast<unsigned char>(t_[i_]) < 0x80) {
        out_.text += t_[i_++];
      } else if (take_non_ascii()) {
        out_.text += '?';
      }
    }
  }

  // A string delimited by `quotes` (1 or 3) of '"' or '\'', written out as a basic string.
  void string(size_t quotes) {
    char q = t_[i_];
    std::string delimiter(quotes, '"');
    out_.text += delimiter;
    i_ += quotes;
    std::string_view close(t_.data() + i_ - quotes, quotes);
    while (i_ < t_.size() && !out_.error) {
      if (at(close)) {
        // Up to two more quotes right before the closing ones belong to a multi-line string.
        size_t extra = 0;
        while (quotes == 3 && extra < 2 && i_ + 3 + extra < t_.size() && t_[i_ + 3 + extra] == q) ++extra;
        for (size_t k = 0; k < extra; ++k) out_.text += q == '"' ? "\\\"" : "'";
        i_ += extra + quotes;
        out_.text += delimiter;
        return;
      }
      char c = t_[i_];
      if (quotes == 1 && c == '\n') return;  // unterminated: toml++ says so
      if (static_cast<unsigned char>(c) >= 0x80) {
        if (auto cp = take_non_ascii()) out_.text += escape(*cp);
      } else if (q == '"' && c == '\\') {
        escape_sequence();
      } else if (q == '\'' && (c == '\\' || c == '"')) {
        out_.text += '\\';
        out_.text += t_[i_++];
      } else {
        out_.text += t_[i_++];
      }
    }
  }

  // A backslash in a basic string and what it escapes, kept as written (a non-ASCII character after
  // it, or after a line-ending backslash's whitespace, is escaped like any other).
  void escape_sequence() {
    out_.text += t_[i_++];
    if (i_ < t_.size() && static_cast<unsigned char>(t_[i_]) >= 0x80)
      return fail(i_, "a non-ASCII character after a backslash (not a TOML escape)");
    if (i_ < t_.size()) out_.text += t_[i_++];
  }

  std::string_view t_;
  size_t i_ = 0;
  AsciiToml out_;
};

}  // namespace

AsciiToml ascii_toml(std::string_view toml) {
  return Converter(toml).run();
}

}  // namespace cp
