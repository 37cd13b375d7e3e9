#pragma once
#include <cstdint>
#include <cstring>
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

// A fast 64-bit hash of bytes, a word at a time, for in-process tables and equality of texts on the
// hot path (statements, URLs, ids); not for anything written out (its value depends on byte order).
inline uint64_t hash_bytes(std::string_view s, uint64_t seed = 0) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = (s.size() + seed) * kMul;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  return h * kMul;
}

}  // namespace cp
