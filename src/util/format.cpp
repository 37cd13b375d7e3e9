#include "util/format.hpp"

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
