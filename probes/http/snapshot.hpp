// What the HTTP collector measured: every request's phases (curl's timing), over a reused
// connection and over fresh ones, with its status or the kind of failure.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp::http {

struct Sample {
  double t_s = 0;       // when the request started, seconds since the window started
  bool reused = false;  // over the kept-alive connection (false: a fresh connection)
  double dns_ms = 0, tcp_ms = 0, tls_ms = 0, ttfb_ms = 0, total_ms = 0;
  int status = 0;     // HTTP status, 0 when no response
  std::string error;  // "", "timeout", "refused", "dns", "tls", "connection"
  std::string error_detail;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Sample, t_s, reused, dns_ms, tcp_ms, tls_ms, ttfb_ms,
                                                total_ms, status, error, error_detail)

struct Snapshot {
  std::string url;       // as displayed (credentials redacted)
  std::string endpoint;  // host:port/path template: the identity of the dependency
  std::string host;
  double window_s = 0;
  double rate_per_s = 0, timeout_ms = 0;
  bool tls_verify = true;
  std::vector<Sample> samples;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, url, endpoint, host, window_s, rate_per_s,
                                                timeout_ms, tls_verify, samples)

}  // namespace cp::http
