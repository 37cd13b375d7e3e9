#include "probes/prometheus/client.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "util/self.hpp"

namespace cp::prom {

namespace {

using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

size_t prom_append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

void prom_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_encode(const std::string& s) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
  return out;
}

Client::Client(std::string base, std::vector<std::string> headers, long timeout_ms)
    : base_(std::move(base)), headers_(std::move(headers)), timeout_ms_(timeout_ms) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  prom_curl_init();
}

Answer Client::get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) const {
  std::string query = form_encode(params);
  return send(base_ + path + (query.empty() ? "" : "?" + query), nullptr);
}

Answer Client::post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) const {
  std::string form = form_encode(params);
  return send(base_ + path, &form);
}

Answer Client::send(const std::string& url, const std::string* form) const {
  ++requests_;
  Answer a;
  Handle h(curl_easy_init(), curl_easy_cleanup);
  HeaderList list(nullptr, curl_slist_free_all);
  curl_slist* raw = nullptr;
  for (const auto& header : headers_) raw = curl_slist_append(raw, header.c_str());
  raw = curl_slist_append(raw, "Accept: application/json");
  list.reset(raw);
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, prom_append_body);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, timeout_ms_);
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, timeout_ms_);
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_USERAGENT, http_user_agent().c_str());
  curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h.get(), CURLOPT_ACCEPT_ENCODING, "");  // gzip when the engine offers it
  if (const char* ca = std::getenv("CHOKEPOINT_CA_FILE"); ca && *ca) curl_easy_setopt(h.get(), CURLOPT_CAINFO, ca);
  if (form) {
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, form->c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(form->size()));
  }
  CURLcode rc = curl_easy_perform(h.get());
  if (rc != CURLE_OK) {
    a.error = curl_easy_strerror(rc);
    return a;
  }
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &a.status);
  return a;
}

}  // namespace cp::prom
