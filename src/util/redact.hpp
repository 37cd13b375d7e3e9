// No secret ever reaches an output: passwords in URLs and DSNs become "***".
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cp {

inline constexpr std::string_view kRedacted = "***";

// "scheme://user:secret@host/…" -> "scheme://user:***@host/…", and the values of query parameters
// that carry credentials (?api_key=…, &token=…, &X-Amz-Signature=…) become "***".
std::string redact_url(std::string_view url);

// Replaces every occurrence of each secret (non-empty) in `text` with "***". Used on messages that
// come from outside (driver errors) as a second line of defence.
std::string scrub(std::string text, const std::vector<std::string>& secrets);

}  // namespace cp
