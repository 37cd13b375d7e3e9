// The query API over HTTP (libcurl): GET with URL parameters, POST with a form body, the user's
// headers on every request. I/O only: what the engine answered is parsed by api.hpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cp::prom {

struct Answer {
  long status = 0;          // HTTP status; 0 when no answer came
  std::string body;
  std::string error;        // transport error (refused, timeout, TLS …), "" when an answer came
};

class Client {
 public:
  // `base`: the query API's base URL, path prefix included ("https://mimir/prometheus").
  // `headers`: "Name: value" each (tenant, authorization).
  Client(std::string base, std::vector<std::string> headers, long timeout_ms);
  // GET base + path with the parameters URL-encoded.
  Answer get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) const;
  // POST base + path with the parameters as an application/x-www-form-urlencoded body.
  Answer post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) const;
  int requests() const { return requests_; }

 private:
  Answer send(const std::string& url, const std::string* form) const;
  std::string base_;
  std::vector<std::string> headers_;
  long timeout_ms_;
  mutable int requests_ = 0;
};

// "a=1&b=x%20y": parameters URL-encoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace cp::prom
