#pragma once
#include <chrono>
#include <string>

namespace cp {
std::string rfc3339_utc(std::chrono::system_clock::time_point t);
double ms_since(std::chrono::steady_clock::time_point start);
}  // namespace cp
