#include "util/redact.hpp"

namespace cp {

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  size_t auth_start = scheme_end + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  std::string_view authority =
      url.substr(auth_start, auth_end == std::string_view::npos ? auth_end : auth_end - auth_start);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string_view userinfo = authority.substr(0, at);
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, auth_start));
  out += userinfo.substr(0, colon);
  out += ':';
  out += kRedacted;
  out += url.substr(auth_start + at);
  return out;
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + kRedacted.size()))
      text.replace(pos, secret.size(), kRedacted);
  }
  return text;
}

}  // namespace cp
