// Numbers the way a person reads them in one glance.
#pragma once
#include <string>
#include <string_view>

namespace cp {
std::string human_count(double n);  // 950, 12k, 1.2M, 3.4G
std::string human_ms(double ms);    // 0.42 ms, 604.9 ms, 12.3 s
std::string human_bytes(double b);  // 512 B, 12 KiB, 3.4 GiB
std::string percent(double ratio);  // 0.812 -> "81 %", 0.004 -> "0.4 %"
double round_to(double v, int decimals);
}  // namespace cp

namespace cp {
// Words of `text` on lines of at most `width` columns (UTF-8 aware; a longer word gets a line of
// its own), each line starting with `indent` spaces and ending with "\n".
std::string word_wrap(const std::string& text, size_t indent, size_t width);
// Display columns of UTF-8 text (one per code point; escape sequences of colour count zero).
size_t display_width(std::string_view text);
// Whitespace collapsed to single spaces, cut at `max` characters with an ellipsis.
std::string one_line(const std::string& text, size_t max);
}  // namespace cp
