// TOML text made ASCII before toml++ reads it. toml++ 3.3.0 (Debian 12) tests non-ASCII characters
// against a whitespace table that reaches `unreachable` for many code points (undefined behaviour;
// marzer/tomlplusplus #190, #295, fixed upstream after 3.3.0), and it meets them even inside strings
// when it scans past an invalid value. So every non-ASCII character goes before parsing: in basic
// strings as a \u escape, literal strings become basic strings with the same value, comments lose
// them, and anywhere else (where TOML allows none) they are an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cp {

struct AsciiToml {
  std::string text;             // the same document, ASCII only, same lines
  std::optional<size_t> error;  // else: offset of a byte that cannot be made ASCII
  std::string what;             // and why
};

AsciiToml ascii_toml(std::string_view toml);

}  // namespace cp
