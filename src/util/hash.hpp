#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace cp {

// FNV-1a, 64 bit: stable across runs, machines and compilers (unlike std::hash), which is
// what finding ids need.
constexpr uint64_t fnv1a64(std::string_view s, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(uint64_t v);

}  // namespace cp
