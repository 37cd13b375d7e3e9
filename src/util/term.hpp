#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace cp {

// Colour only on a terminal and never when NO_COLOR is set (https://no-color.org).
bool use_color(std::FILE* stream);
bool is_tty(std::FILE* stream);
// Columns of the terminal `stream` writes to; 100 when it is not a terminal (files, pipes, CI logs).
size_t text_width(std::FILE* stream);
inline constexpr size_t kDefaultTextWidth = 100;

struct Style {
  bool enabled = false;
  std::string paint(std::string_view text, std::string_view sgr) const;  // sgr: "1;31" …
};

}  // namespace cp
