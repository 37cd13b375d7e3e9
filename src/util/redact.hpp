// No secret ever reaches an output: passwords in URLs and DSNs become "***".
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cp {

inline constexpr std::string_view kRedacted = "***";

// "scheme://user:secret@host/p?sessionid=1&x#t=2" -> "scheme://user:***@host/p?sessionid=***&x=***#t=***":
// the password of the userinfo (with or without a scheme: "user:pw@host"), and the value of every
// query and fragment parameter (names are kept; a parameter without '=' is a value).
std::string redact_url(std::string_view url);

// What redact_url hides in `url`: the userinfo password and the parameter values of at least
// `min_length` characters (shorter ones would scrub digits out of every message).
std::vector<std::string> url_secrets(std::string_view url, size_t min_length = 4);

// Every URL-looking word of a free text ("… GET https://u:pw@h/x?k=v failed") redacted.
std::string redact_urls_in_text(std::string_view text);

// Replaces every occurrence of each secret (non-empty) in `text` with "***". Used on messages that
// come from outside (driver errors) as a second line of defence.
std::string scrub(std::string text, const std::vector<std::string>& secrets);

}  // namespace cp
