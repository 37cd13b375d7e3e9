// std::optional <-> JSON null for nlohmann::json (snapshots use it for "not measured").
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

NLOHMANN_JSON_NAMESPACE_BEGIN
template <typename T>
struct adl_serializer<std::optional<T>> {
  template <typename Json>
  static void to_json(Json& j, const std::optional<T>& v) {
    if (v)
      j = *v;
    else
      j = nullptr;
  }
  template <typename Json>
  static void from_json(const Json& j, std::optional<T>& v) {
    if (j.is_null())
      v = std::nullopt;
    else
      v = j.template get<T>();
  }
};
NLOHMANN_JSON_NAMESPACE_END
