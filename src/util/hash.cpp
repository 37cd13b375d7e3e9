#include "util/hash.hpp"

#include <fmt/format.h>

namespace cp {
std::string hex64(uint64_t v) {
  return fmt::format("{:016x}", v);
}
}  // namespace cp
