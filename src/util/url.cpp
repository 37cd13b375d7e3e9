#include "util/url.hpp"

#include "util/hash.hpp"

#include <cctype>
#include <utility>

namespace cp {

namespace {
bool url_delimiter(char c) {
  return c == '/' || c == '?' || c == '#';
}

// Where the authority ("user@host:port") starts and ends: after "scheme://" when there is one;
// the path starts where it ends. Plain loops: this runs for every external span.
std::pair<size_t, size_t> authority_bounds(std::string_view url) {
  size_t start = 0;
  for (size_t i = 0; i < url.size() && !url_delimiter(url[i]); ++i) {
    if (url[i] != ':') continue;
    if (url.substr(i, 3) == "://") start = i + 3;
    break;
  }
  size_t end = start;
  while (end < url.size() && !url_delimiter(url[end])) ++end;
  return {start, end};
}

std::string_view host_of_authority(std::string_view authority) {
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  return authority;
}
}  // namespace

std::string_view url_host_view(std::string_view url) {
  auto [start, end] = authority_bounds(url);
  return host_of_authority(url.substr(start, end - start));
}

std::string url_host(std::string_view url) {
  return std::string(url_host_view(url));
}

bool is_identifier_value(std::string_view seg) {
  if (seg.empty()) return false;
  bool all_digits = true, all_hex = true, token = true, any_digit = false;
  size_t dashes = 0;
  for (char c : seg) {  // ASCII classes inline: this runs for every piece of every URL
    bool digit = c >= '0' && c <= '9';
    bool hex_letter = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    any_digit = any_digit || digit;
    if (!digit) all_digits = false;
    if (c == '-')
      ++dashes;
    else if (!digit && !hex_letter)
      all_hex = false;
    if (!digit && !letter && c != '-' && c != '_') token = false;
  }
  if (all_digits) return true;
  if (all_hex && dashes == 4 && seg.size() == 36) return true;  // UUID
  if (all_hex && dashes == 0 && seg.size() >= 16) return true;  // long hex ids, hashes
  return token && any_digit && seg.size() >= 20;                // opaque tokens (base62 ids, ULIDs)
}

namespace {
void append_path_template(std::string_view path, std::string& out) {
  size_t i = 0;
  while (i < path.size()) {
    size_t slash = path.find('/', i + 1);
    std::string_view seg =
        path.substr(i + 1, slash == std::string_view::npos ? std::string_view::npos : slash - i - 1);
    if (path[i] == '/') {
      out += '/';
      out += is_identifier_value(seg) ? std::string_view("{id}") : seg;
    }
    if (slash == std::string_view::npos) break;
    i = slash;
  }
}

// The path that starts at `path_start`, without its query or fragment.
std::string_view path_from(std::string_view url, size_t path_start) {
  size_t path_end = path_start;
  while (path_end < url.size() && url[path_end] != '?' && url[path_end] != '#') ++path_end;
  return url.substr(path_start, path_end - path_start);
}
}  // namespace

std::string path_template(std::string_view path) {
  size_t start = path.empty() || path[0] == '/' ? 0 : authority_bounds(path).second;  // or a whole URL
  std::string out;
  append_path_template(path_from(path, start), out);
  return out.empty() ? std::string("/") : out;
}

uint64_t query_shape_hash(std::string_view url) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return 0;
  thread_local std::string shape;
  shape.clear();
  for (size_t i = q + 1; i <= url.size();) {
    size_t end = url.find_first_of("&=#", i);
    if (end == std::string_view::npos) end = url.size();
    std::string_view piece = url.substr(i, end - i);
    shape += is_identifier_value(piece) ? std::string_view("{id}") : piece;
    if (end < url.size()) shape += url[end];
    if (end < url.size() && url[end] == '#') break;
    i = end + 1;
  }
  return hash_bytes(shape) | 1;
}

std::string_view append_url_template(std::string_view url, std::string& out) {
  auto [start, path_start] = authority_bounds(url);
  std::string_view host = host_of_authority(url.substr(start, path_start - start));
  out += host;
  append_path_template(path_from(url, path_start), out);
  return host;
}

std::string normalize_url(std::string_view url) {
  std::string out;
  append_url_template(url, out);
  return out;
}

}  // namespace cp
