#include "util/redact.hpp"

#include <cctype>

namespace cp {

namespace {

// Query parameters that carry credentials (api_key, access_token, password, X-Amz-Signature …).
bool secret_parameter(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"pass", "secret", "token", "key", "sig", "auth", "credential"})
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

std::string redact_query(std::string_view url) {
  auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  auto hash = url.find('#', q);
  std::string_view query =
      url.substr(q + 1, hash == std::string_view::npos ? std::string_view::npos : hash - q - 1);
  std::string out(url.substr(0, q + 1));
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view param =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    auto eq = param.find('=');
    if (eq != std::string_view::npos && secret_parameter(param.substr(0, eq)))
      out += std::string(param.substr(0, eq + 1)) + std::string(kRedacted);
    else
      out += param;
    if (amp == std::string_view::npos) break;
    out += '&';
    start = amp + 1;
  }
  if (hash != std::string_view::npos) out += url.substr(hash);
  return out;
}

}  // namespace

std::string redact_url(std::string_view given) {
  std::string redacted_query = redact_query(given);
  std::string_view url = redacted_query;
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
