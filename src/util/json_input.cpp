#include "util/json_input.hpp"

#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace cp {

namespace {

struct TooDeep {};

}  // namespace

template <typename Json>
std::optional<Json> parse_json_input(const std::string& text, std::string& error) {
  if (text.size() > kMaxJsonBytes) {
    error = fmt::format("is larger than {} MiB", kMaxJsonBytes >> 20);
    return std::nullopt;
  }
  // The depth is checked while parsing, before a deep value exists: copying, printing or freeing
  // one recurses once per level.
  typename Json::parser_callback_t depth_limit = [](int depth, typename Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return Json::parse(text, depth_limit);
  } catch (const TooDeep&) {
    error = fmt::format("nests values deeper than {} levels", kMaxJsonDepth);
  } catch (const typename Json::exception& e) {
    error = fmt::format("is not valid JSON ({})", e.what());
  }
  return std::nullopt;
}

template <typename Json>
std::optional<std::string> implausible_number(const Json& doc) {
  // Iterative: the depth is bounded already, but a wide document should not cost recursion either.
  std::vector<std::pair<const Json*, std::string>> todo{{&doc, ""}};
  while (!todo.empty()) {
    auto [node, path] = todo.back();
    todo.pop_back();
    if (node->is_number_float()) {
      double v = node->template get<double>();
      if (!std::isfinite(v) || std::fabs(v) > kMaxJsonNumber) return path.empty() ? "(the document)" : path;
    } else if (node->is_object()) {
      for (auto it = node->begin(); it != node->end(); ++it)
        todo.emplace_back(&*it, path.empty() ? it.key() : path + "." + it.key());
    } else if (node->is_array()) {
      for (size_t i = 0; i < node->size(); ++i)
        todo.emplace_back(&(*node)[i], fmt::format("{}[{}]", path, i));
    }
  }
  return std::nullopt;
}

template std::optional<nlohmann::json> parse_json_input(const std::string&, std::string&);
template std::optional<nlohmann::ordered_json> parse_json_input(const std::string&, std::string&);
template std::optional<std::string> implausible_number(const nlohmann::json&);
template std::optional<std::string> implausible_number(const nlohmann::ordered_json&);

}  // namespace cp
