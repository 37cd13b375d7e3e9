#include "util/redact.hpp"

#include <cctype>

namespace cp {

namespace {

struct UrlParts {
  size_t authority_begin = 0, authority_end = 0;  // [begin, end) of "userinfo@host:port"
  size_t password_begin = std::string_view::npos, password_end = std::string_view::npos;
  size_t params_begin = std::string_view::npos;  // after '?' or '#'
};

UrlParts split(std::string_view url) {
  UrlParts p;
  auto scheme_end = url.find("://");
  auto first_delim = url.find_first_of("/?#");
  p.authority_begin = scheme_end != std::string_view::npos && scheme_end < first_delim ? scheme_end + 3 : 0;
  p.authority_end = url.find_first_of("/?#", p.authority_begin);
  if (p.authority_end == std::string_view::npos) p.authority_end = url.size();
  std::string_view authority = url.substr(p.authority_begin, p.authority_end - p.authority_begin);
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    auto colon = authority.substr(0, at).find(':');
    if (colon != std::string_view::npos) {
      p.password_begin = p.authority_begin + colon + 1;
      p.password_end = p.authority_begin + at;
    }
  }
  p.params_begin = url.find_first_of("?#", p.authority_begin);
  if (p.params_begin != std::string_view::npos) ++p.params_begin;
  return p;
}

// Calls fn(name, value_begin, value_end) for every parameter of "a=1&b&c=3#d=4" (positions in `url`;
// a parameter without '=' is all value).
template <typename Fn>
void for_each_parameter(std::string_view url, size_t begin, Fn fn) {
  size_t start = begin;
  while (start <= url.size()) {
    size_t end = url.find_first_of("&;#", start);
    if (end == std::string_view::npos) end = url.size();
    std::string_view param = url.substr(start, end - start);
    auto eq = param.find('=');
    if (!param.empty()) fn(eq == std::string_view::npos ? start : start + eq + 1, end);
    if (end == url.size()) break;
    start = end + 1;
  }
}

}  // namespace

std::string redact_url(std::string_view url) {
  UrlParts p = split(url);
  std::string out;
  size_t copied = 0;
  auto hide = [&](size_t begin, size_t end) {
    out += url.substr(copied, begin - copied);
    out += kRedacted;
    copied = end;
  };
  if (p.password_begin != std::string_view::npos) hide(p.password_begin, p.password_end);
  if (p.params_begin != std::string_view::npos)
    for_each_parameter(url, p.params_begin, [&](size_t b, size_t e) {
      if (b < e) hide(b, e);
    });
  out += url.substr(copied);
  return out;
}

std::vector<std::string> url_secrets(std::string_view url, size_t min_length) {
  UrlParts p = split(url);
  std::vector<std::string> out;
  if (p.password_begin != std::string_view::npos && p.password_end > p.password_begin)
    out.emplace_back(url.substr(p.password_begin, p.password_end - p.password_begin));
  if (p.params_begin != std::string_view::npos)
    for_each_parameter(url, p.params_begin, [&](size_t b, size_t e) {
      if (e - b >= min_length) out.emplace_back(url.substr(b, e - b));
    });
  return out;
}

std::string redact_urls_in_text(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find_first_of(" \t\n\"'<>", i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    bool url_like = word.find("://") != std::string_view::npos ||
                    (word.find('@') != std::string_view::npos && word.find(':') != std::string_view::npos) ||
                    word.find('?') != std::string_view::npos;
    out += url_like ? redact_url(word) : std::string(word);
    if (end < text.size()) out += text[end];
    i = end + 1;
  }
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
