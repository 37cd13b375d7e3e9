// JSON read from files chokepoint did not write itself (baselines, evidence): bounded before it is
// built, checked before it is judged. A document that is too large, too deep or holds numbers no
// measurement can have is refused with a message naming where, never a crash.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cp {

inline constexpr size_t kMaxJsonBytes = size_t{512} << 20;  // a day of evidence is far below this
inline constexpr int kMaxJsonDepth = 256;                   // EXPLAIN plans nest ~2 levels per node
inline constexpr double kMaxJsonNumber = 1e18;              // no counter or duration comes near it

// Parses `text`; on failure returns nullopt and sets `error` ("nests deeper than 256 levels", "is
// not valid JSON at byte 12", "is larger than 512 MiB").
template <typename Json>
std::optional<Json> parse_json_input(const std::string& text, std::string& error);

// The path of the first number that is not finite or larger in magnitude than kMaxJsonNumber
// ("probes[0].snapshot.statements[3].calls"), nullopt when every number is plausible.
template <typename Json>
std::optional<std::string> implausible_number(const Json& doc);

extern template std::optional<nlohmann::json> parse_json_input(const std::string&, std::string&);
extern template std::optional<nlohmann::ordered_json> parse_json_input(const std::string&, std::string&);
extern template std::optional<std::string> implausible_number(const nlohmann::json&);
extern template std::optional<std::string> implausible_number(const nlohmann::ordered_json&);

}  // namespace cp
