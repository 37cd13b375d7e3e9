#include "probes/http/collector.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "probes/http/snapshot.hpp"
#include "util/redact.hpp"
#include "util/self.hpp"
#include "util/url.hpp"

namespace cp::http {

namespace {

using Clock = std::chrono::steady_clock;
using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Handle make_handle(const std::string& url, long timeout_ms, bool tls_verify, bool fresh) {
  Handle h(curl_easy_init(), curl_easy_cleanup);
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h.get(), CURLOPT_USERAGENT, http_user_agent().c_str());  // traces leave these out
  curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h.get(), CURLOPT_SSL_VERIFYPEER, tls_verify ? 1L : 0L);
  curl_easy_setopt(h.get(), CURLOPT_SSL_VERIFYHOST, tls_verify ? 2L : 0L);
  if (const char* ca = std::getenv("CHOKEPOINT_CA_FILE"); ca && *ca)
    curl_easy_setopt(h.get(), CURLOPT_CAINFO, ca);
  if (fresh) {
    curl_easy_setopt(h.get(), CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h.get(), CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h.get(), CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  }
  return h;
}

std::string error_kind(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_CONNECT:
      return "refused";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "dns";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return "tls";
    default:
      return "connection";
  }
}

double ms(CURL* h, CURLINFO what) {
  curl_off_t us = 0;
  curl_easy_getinfo(h, what, &us);
  return static_cast<double>(us) / 1000.0;
}

Sample perform(CURL* h, bool reused) {
  Sample s;
  s.reused = reused;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(h);
  double dns = ms(h, CURLINFO_NAMELOOKUP_TIME_T), connect = ms(h, CURLINFO_CONNECT_TIME_T);
  double app = ms(h, CURLINFO_APPCONNECT_TIME_T);
  s.dns_ms = dns;
  s.tcp_ms = std::max(0.0, connect - dns);
  s.tls_ms = app > 0 ? std::max(0.0, app - connect) : 0;
  s.ttfb_ms = ms(h, CURLINFO_STARTTRANSFER_TIME_T);
  s.total_ms = ms(h, CURLINFO_TOTAL_TIME_T);
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    s.status = static_cast<int>(status);
  } else {
    s.error = error_kind(rc);
    s.error_detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  }
  return s;
}

// Nothing could be measured: say what happened, in the user's words.
std::string failure_message(const std::string& url, const std::vector<Sample>& samples, double timeout_ms) {
  const Sample& s = samples.front();
  if (s.error == "timeout")
    return fmt::format("{}: timed out after {:.0f} ms on all {} requests (no answer)", url, timeout_ms,
                       samples.size());
  if (s.error == "refused") return fmt::format("{}: connection refused — nothing listens there", url);
  if (s.error == "dns") return fmt::format("{}: DNS lookup failed — {}", url, s.error_detail);
  if (s.error == "tls")
    return fmt::format(
        "{}: TLS failed — {} (a private CA: set CHOKEPOINT_CA_FILE; a test server: "
        "[probes.http] tls_verify = 0)",
        url, s.error_detail);
  return fmt::format("{}: {}", url, s.error_detail);
}

}  // namespace

Collected collect(const Target& target, const CollectContext& ctx) {
  global_init();
  auto option = [&](const char* name) { return ctx.option("http", name); };
  double rate = std::clamp(option("rate_per_s"), 0.1, kMaxRatePerS);
  double max_requests = std::clamp(option("max_requests"), 2.0, kMaxRequests);
  double timeout_ms = std::clamp(option("timeout_ms"), 100.0, 60000.0);
  bool tls_verify = option("tls_verify") != 0;

  Snapshot snap;
  snap.url = target.name;
  snap.endpoint = normalize_url(target.spec());
  snap.host = url_host(target.spec());
  if (auto at = snap.host.rfind('@'); at != std::string::npos) snap.host = snap.host.substr(at + 1);
  snap.rate_per_s = rate;
  snap.timeout_ms = timeout_ms;
  snap.tls_verify = tls_verify;

  Handle reused = make_handle(target.spec(), static_cast<long>(timeout_ms), tls_verify, false);
  auto started = Clock::now();
  auto timed = [&](const auto& request) {
    auto t0 = Clock::now();
    Sample s = request();
    s.t_s = std::chrono::duration<double>(t0 - started).count();
    snap.samples.push_back(std::move(s));
  };
  // The first request opens the connection the "reused" series keeps; it is measured as fresh.
  timed([&] { return perform(reused.get(), false); });
  auto fresh = [&] {
    Handle h = make_handle(target.spec(), static_cast<long>(timeout_ms), tls_verify, true);
    return perform(h.get(), false);
  };
  // Then reused and fresh connections alternate at the rate until the window ends (when the first
  // request outlasted it, there is no more); a zero window takes one call of each kind.
  bool cumulative = ctx.cumulative(), next_reused = true;
  if (cumulative || ctx.window_open())
    sample_through_window(
        ctx, 1.0 / rate,
        [&](double) {
          if (next_reused)
            timed([&] { return perform(reused.get(), true); });
          else
            timed(fresh);
          next_reused = !next_reused;
        },
        [&] { return snap.samples.size() < max_requests; });
  if (cumulative) timed(fresh);
  snap.window_s = std::chrono::duration<double>(Clock::now() - started).count();
  bool any_answer =
      std::any_of(snap.samples.begin(), snap.samples.end(), [](const Sample& s) { return s.status > 0; });
  if (!any_answer)
    return {ProbeStatus::error, scrub(failure_message(target.name, snap.samples, timeout_ms), target.secrets),
            snap};
  return {ProbeStatus::ok, "", snap};
}

}  // namespace cp::http
