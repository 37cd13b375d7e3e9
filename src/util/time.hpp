#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cp {
std::string rfc3339_utc(std::chrono::system_clock::time_point t);
double ms_since(std::chrono::steady_clock::time_point start);
// Unix seconds from "1765158000", "1765158000.5" or RFC 3339 ("2026-12-08T02:00:00Z",
// "2026-12-08T03:00:00.25+01:00"); nullopt for anything else.
std::optional<double> parse_time(std::string_view text);
// RFC 3339 UTC of unix seconds (whole seconds).
std::string rfc3339_utc(double unix_s);
}  // namespace cp
