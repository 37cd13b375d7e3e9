#include "core/model.hpp"

namespace cp {
namespace {
constexpr std::array<std::string_view, 4> kCategoryNames = {"database", "network", "code", "infrastructure"};
constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "low", "medium", "high", "critical"};
}  // namespace

std::string_view to_string(Category c) {
  return kCategoryNames[static_cast<size_t>(c)];
}

std::optional<Category> category_from_string(std::string_view s) {
  for (size_t i = 0; i < kCategoryNames.size(); ++i)
    if (kCategoryNames[i] == s) return static_cast<Category>(i);
  return std::nullopt;
}

std::string_view to_string(Severity s) {
  return kSeverityNames[static_cast<size_t>(s)];
}

std::optional<Severity> severity_from_string(std::string_view s) {
  for (size_t i = 0; i < kSeverityNames.size(); ++i)
    if (kSeverityNames[i] == s) return static_cast<Severity>(i);
  return std::nullopt;
}

std::string_view to_string(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::ok:
      return "ok";
    case ProbeStatus::error:
      return "error";
    case ProbeStatus::skipped:
      return "skipped";
  }
  return "error";
}

}  // namespace cp
