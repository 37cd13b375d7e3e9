#include "util/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "util/self.hpp"

namespace cp::pg {

std::string ConnInfo::get(const std::string& key, const std::string& fallback) const {
  auto it = params.find(key);
  return it == params.end() || it->second.empty() ? fallback : it->second;
}

std::string ConnInfo::display_name(std::string_view scheme) const {
  std::string user = get("user");
  std::string host = get("host", get("hostaddr"));
  std::string port = get("port");
  std::string out = fmt::format("{}://", scheme);
  if (!user.empty()) out += user + "@";
  // A socket directory is shown as such; several hosts keep libpq's comma-separated form.
  out += host;
  if (!port.empty()) out += ":" + port;
  std::string db = get("dbname");
  if (!db.empty()) out += "/" + db;
  return out;
}

std::string ConnInfo::to_string() const {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += ' ';
    out += k + "='";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

namespace {

bool conninfo_keyword(std::string_view word) {
  static const std::set<std::string, std::less<>> keywords = [] {
    std::set<std::string, std::less<>> out;
    PQconninfoOption* defaults = PQconndefaults();
    for (PQconninfoOption* o = defaults; o && o->keyword; ++o) out.insert(o->keyword);
    if (defaults) PQconninfoFree(defaults);
    return out;
  }();
  return keywords.count(word) > 0;
}

}  // namespace

std::string redact_parse_error(std::string_view message) {
  // libpq quotes the offending part of the string, and that part may be (or hold) the password:
  // `invalid percent-encoded token: "pa%zz"`, `missing "=" after "word" in connection info string`.
  // Only keywords and punctuation survive.
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    size_t open = message.find('"', i);
    size_t close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close == std::string_view::npos) {
      out += message.substr(i);
      break;
    }
    std::string_view quoted = message.substr(open + 1, close - open - 1);
    bool punctuation = std::none_of(quoted.begin(), quoted.end(),
                                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    out += message.substr(i, open + 1 - i);
    out += punctuation || conninfo_keyword(quoted) ? std::string(quoted) : std::string("***");
    out += '"';
    i = close + 1;
  }
  return out;
}

std::optional<ConnInfo> parse_conninfo(const std::string& dsn, std::string& error) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (!opts) {
    // libpq echoes parts of the string (the password among them): first line, quoted parts hidden.
    std::string msg = err ? err : "not a connection string";
    if (err) PQfreemem(err);
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    error = redact_parse_error(msg);
    return std::nullopt;
  }
  ConnInfo info;
  for (PQconninfoOption* o = opts; o->keyword; ++o)
    if (o->val) info.params[o->keyword] = o->val;
  PQconninfoFree(opts);
  return info;
}

std::optional<std::string> conninfo_display_name(const std::string& dsn, std::vector<std::string>& secrets,
                                                 std::string& error) {
  auto info = parse_conninfo(dsn, error);
  if (!info) return std::nullopt;
  for (const char* key : {"password", "sslpassword"})
    if (auto pw = info->get(key); !pw.empty()) secrets.push_back(pw);
  return info->display_name();
}

std::string session_conninfo(const ConnInfo& info, const SessionLimits& limits, bool with_options) {
  ConnInfo s = info;
  s.params["application_name"] = std::string(kSelfName);  // probes leave these sessions out
  if (s.get("connect_timeout").empty())
    s.params["connect_timeout"] = std::to_string(limits.connect_timeout_s);
  if (with_options) {
    s.params["options"] = fmt::format(
        "-c default_transaction_read_only=on -c statement_timeout={} -c lock_timeout={} "
        "-c idle_in_transaction_session_timeout=60000",
        limits.statement_timeout_ms, limits.lock_timeout_ms);
  } else {
    s.params.erase("options");
  }
  return s.to_string();
}

std::string session_set_commands(const SessionLimits& limits) {
  return fmt::format(
      "SET default_transaction_read_only = on; SET statement_timeout = {}; SET lock_timeout = {}; "
      "SET idle_in_transaction_session_timeout = 60000",
      limits.statement_timeout_ms, limits.lock_timeout_ms);
}

std::string libpq_message(std::string s) {
  for (const char* prefix : {"FATAL:  ", "ERROR:  "})
    if (auto at = s.find(prefix); at != std::string::npos) s = s.substr(at + std::string_view(prefix).size());
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace cp::pg
