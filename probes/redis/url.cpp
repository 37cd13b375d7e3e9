#include "probes/redis/url.hpp"

#include <cctype>
#include <cstdlib>

namespace cp::redis {

namespace {
std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// user:password@ at the front of `authority`: into `u`, and off `authority`.
void take_userinfo(std::string& authority, RedisUrl& u) {
  auto at = authority.rfind('@');
  if (at == std::string::npos) return;
  std::string userinfo = authority.substr(0, at);
  authority = authority.substr(at + 1);
  auto colon = userinfo.find(':');
  if (colon == std::string::npos) {
    u.password = percent_decode(userinfo);  // redis://secret@host: a password without a user
  } else {
    u.user = percent_decode(userinfo.substr(0, colon));
    u.password = percent_decode(userinfo.substr(colon + 1));
  }
}
}  // namespace

std::optional<RedisUrl> parse_redis_url(const std::string& url, std::string& error) {
  RedisUrl u;
  std::string rest;
  if (url.rfind("redis://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("rediss://", 0) == 0) {
    error = "rediss:// (TLS) is not supported by this build's hiredis; use an stunnel/sidecar or redis://";
    return std::nullopt;
  } else {
    error = "expected redis://[user:password@]host[:port][/db]";
    return std::nullopt;
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string authority = rest.substr(0, rest.find('/'));
  std::string path = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
  take_userinfo(authority, u);
  std::string host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:6379
    auto close = authority.find(']');
    if (close == std::string::npos) {
      error = "unclosed [ in the host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority.front() == ':')
      authority = authority.substr(1);
    else
      authority.clear();
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    authority = authority.substr(colon + 1);
  } else {
    authority.clear();
  }
  if (!host.empty()) u.host = host;
  if (!authority.empty()) {
    if (!all_digits(authority) || std::atoi(authority.c_str()) <= 0 || std::atoi(authority.c_str()) > 65535) {
      error = "the port must be a number between 1 and 65535";
      return std::nullopt;
    }
    u.port = std::atoi(authority.c_str());
  }
  if (!path.empty()) {
    if (!all_digits(path)) {
      error = "the database must be a number (redis://host/0)";
      return std::nullopt;
    }
    u.db = std::atoi(path.c_str());
  }
  return u;
}

}  // namespace cp::redis
