#include "util/format.hpp"

#include <cctype>

#include <cmath>

#include <fmt/format.h>

namespace cp {

double round_to(double v, int decimals) {
  double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

std::string human_count(double n) {
  double a = std::fabs(n);
  if (a >= 1e9) return fmt::format("{:.1f}G", n / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f}M", n / 1e6);
  if (a >= 1e4) return fmt::format("{:.0f}k", n / 1e3);
  if (a >= 1e3) return fmt::format("{:.1f}k", n / 1e3);
  if (a == std::floor(a)) return fmt::format("{:.0f}", n);
  return fmt::format("{:.1f}", n);
}

std::string human_ms(double ms) {
  if (ms >= 10000) return fmt::format("{:.1f} s", ms / 1000);
  if (ms >= 1000) return fmt::format("{:.2f} s", ms / 1000);
  if (ms >= 10) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.2f} ms", ms);
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::fabs(b) >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

std::string percent(double ratio) {
  double p = ratio * 100;
  if (p != 0 && std::fabs(p) < 1) return fmt::format("{:.1f} %", p);
  return fmt::format("{:.0f} %", p);
}

}  // namespace cp

namespace cp {
std::string one_line(const std::string& text, size_t max) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max) {
    size_t cut = max > 1 ? max - 1 : 0;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    out = out.substr(0, cut) + "…";
  }
  return out;
}
}  // namespace cp

namespace cp {

size_t display_width(std::string_view text) {
  size_t n = 0;
  bool escape = false;
  for (unsigned char c : text) {
    if (escape) {
      escape = c != 'm';
      continue;
    }
    if (c == 0x1b) {
      escape = true;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string word_wrap(const std::string& text, size_t indent, size_t width) {
  std::string word, line, out;
  std::string pad(indent, ' ');
  size_t line_width = 0;
  auto flush = [&] {
    if (!line.empty()) out += pad + line + "\n";
    line.clear();
    line_width = 0;
  };
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (start == i) break;
    word = text.substr(start, i - start);
    size_t w = display_width(word);
    if (!line.empty() && indent + line_width + 1 + w > width) flush();
    line += (line.empty() ? "" : " ") + word;
    line_width += (line_width ? 1 : 0) + w;
  }
  flush();
  return out;
}

}  // namespace cp
