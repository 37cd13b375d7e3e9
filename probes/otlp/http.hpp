// The HTTP/1.1 a collector endpoint needs: an incremental request parser (Content-Length and chunked
// bodies, keep-alive, Expect: 100-continue) with hard limits, and response text. No sockets here.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cp::otlp {

struct HttpRequest {
  std::string method, target, version;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool keep_alive() const;
};

class HttpParser {
 public:
  enum class State { headers, body, complete, error };

  HttpParser(size_t max_header_bytes, size_t max_body_bytes)
      : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

  // Consumes bytes; returns how many it used (it stops after a complete request, so pipelined bytes
  // are left for the next one).
  size_t feed(std::string_view data);
  State state() const { return state_; }
  // When state() is error: the status to answer with (400, 413, 431, 501) and why.
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  // Headers are in and the client waits for "100 Continue" before it sends the body.
  bool wants_continue() const { return state_ == State::body && expects_continue_; }
  void continue_sent() { expects_continue_ = false; }
  const HttpRequest& request() const { return request_; }
  HttpRequest take() { return std::move(request_); }
  void reset();

 private:
  void fail(int status, std::string message);
  void parse_headers(std::string_view head);
  size_t feed_body(std::string_view data);
  size_t feed_chunked(std::string_view data);

  size_t max_header_bytes_, max_body_bytes_;
  State state_ = State::headers;
  std::string head_;  // header bytes so far
  HttpRequest request_;
  bool chunked_ = false;
  bool expects_continue_ = false;
  size_t content_length_ = 0;
  // Chunked: the size line being read, or the bytes left of the current chunk.
  enum class Chunk { size_line, data, data_crlf, trailer } chunk_ = Chunk::size_line;
  std::string line_;
  size_t chunk_left_ = 0;
  int error_status_ = 0;
  std::string error_message_;
};

std::string_view status_text(int status);

// A complete response; `extra_headers` are "Name: value\r\n" lines.
std::string http_response(int status, std::string_view content_type, std::string_view body, bool keep_alive,
                          std::string_view extra_headers = {});

}  // namespace cp::otlp
