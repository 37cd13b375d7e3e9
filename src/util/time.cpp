#include "util/time.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace cp {

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string rfc3339_utc(double unix_s) {
  return rfc3339_utc(std::chrono::system_clock::time_point(
      std::chrono::seconds(static_cast<long long>(std::floor(unix_s)))));
}

namespace {

// `n` digits at `at` as a number; -1 when they are not all digits.
int time_digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<double> parse_unix_seconds(std::string_view s) {
  size_t point = s.find('.');
  auto digits = [](std::string_view part) {
    return !part.empty() && part.size() < 16 &&
           std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  if (!digits(s.substr(0, point)) || (point != std::string_view::npos && !digits(s.substr(point + 1))))
    return std::nullopt;
  return std::strtod(std::string(s).c_str(), nullptr);
}

}  // namespace

std::optional<double> parse_time(std::string_view s) {
  if (auto unix_s = parse_unix_seconds(s)) return unix_s;
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  int year = time_digits(s, 0, 4), month = time_digits(s, 5, 2), day = time_digits(s, 8, 2);
  int hour = time_digits(s, 11, 2), minute = time_digits(s, 14, 2), second = time_digits(s, 17, 2);
  if (s.size() < 20 || year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  size_t at = 19;
  double fraction = 0;
  if (s[at] == '.') {
    size_t end = at + 1;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    if (end == at + 1) return std::nullopt;
    fraction = std::strtod(std::string(s.substr(at, end - at)).c_str(), nullptr);
    at = end;
  }
  int offset_s = 0;
  std::string_view zone = s.substr(at);
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = time_digits(zone, 1, 2), om = time_digits(zone, 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_s = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  return static_cast<double>(t) - offset_s + fraction;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace cp
