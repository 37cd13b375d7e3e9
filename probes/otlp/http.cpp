#include "probes/otlp/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace cp::otlp {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool token_in(std::string_view list, std::string_view token) {
  std::string l = lower(list);
  size_t start = 0;
  while (start <= l.size()) {
    size_t comma = l.find(',', start);
    if (trim(std::string_view(l).substr(start, comma - start)) == token) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

// Where the blank line ending the headers ends in `data` (past its "\r\n\r\n", which may have begun
// in `head`, the header bytes of earlier reads), or npos.
size_t header_end(std::string_view head, std::string_view data) {
  constexpr std::string_view blank = "\r\n\r\n";
  for (size_t k = 3; k >= 1; --k)  // the first k bytes of it already in `head`
    if (head.size() >= k && head.substr(head.size() - k) == blank.substr(0, k) &&
        data.substr(0, 4 - k) == blank.substr(k))
      return 4 - k;
  size_t at = data.find(blank);
  return at == std::string_view::npos ? at : at + 4;
}

}  // namespace

bool HttpRequest::keep_alive() const {
  std::string connection = header("connection");
  if (token_in(connection, "close")) return false;
  return version == "HTTP/1.1" || token_in(connection, "keep-alive");
}

void HttpParser::reset() {
  state_ = State::headers;
  head_.clear();
  request_ = {};
  chunked_ = expects_continue_ = false;
  content_length_ = chunk_left_ = 0;
  chunk_ = Chunk::size_line;
  line_.clear();
  error_status_ = 0;
  error_message_.clear();
}

void HttpParser::fail(int status, std::string message) {
  state_ = State::error;
  error_status_ = status;
  error_message_ = std::move(message);
}

void HttpParser::parse_headers(std::string_view head) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return fail(400, "malformed request line");
  request_.method = std::string(line.substr(0, sp1));
  request_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  request_.version = std::string(line.substr(sp2 + 1));
  if (request_.version != "HTTP/1.1" && request_.version != "HTTP/1.0")
    return fail(400, "unsupported HTTP version");
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view h = head.substr(pos, end - pos);
    pos = end + 2;
    if (h.empty()) continue;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed header line");
    std::string name = lower(h.substr(0, colon));
    std::string value(trim(h.substr(colon + 1)));
    auto [it, inserted] = request_.headers.emplace(name, value);
    if (!inserted) {
      if (name == "content-length" && it->second != value) return fail(400, "conflicting Content-Length");
      it->second += ", " + value;
    }
  }
  std::string te = request_.header("transfer-encoding");
  std::string cl = request_.header("content-length");
  if (!te.empty()) {
    if (lower(te) != "chunked") return fail(501, "unsupported Transfer-Encoding " + te);
    if (!cl.empty()) return fail(400, "both Content-Length and Transfer-Encoding");
    chunked_ = true;
  } else if (!cl.empty()) {
    auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), content_length_);
    if (ec != std::errc() || p != cl.data() + cl.size()) return fail(400, "invalid Content-Length");
    if (content_length_ > max_body_bytes_)
      return fail(413,
                  fmt::format("body of {} bytes exceeds the limit of {}", content_length_, max_body_bytes_));
  }
  expects_continue_ = lower(request_.header("expect")) == "100-continue";
  state_ = State::body;
  if (!chunked_ && content_length_ == 0) state_ = State::complete;
}

size_t HttpParser::feed(std::string_view data) {
  size_t used = 0;
  if (state_ == State::headers) {
    // Only this request's header bytes are kept: appending the pipelined requests after it too made
    // each of them copy the rest of the read (quadratic in the requests per read).
    size_t end = header_end(head_, data);
    if (end == std::string_view::npos) {
      head_.append(data);
      if (head_.size() > max_header_bytes_) fail(431, "request headers too large");
      return data.size();
    }
    if (head_.size() + end - 4 > max_header_bytes_) {
      fail(431, "request headers too large");
      return data.size();
    }
    head_.append(data.substr(0, end));
    used = end;
    std::string head = head_.substr(0, head_.size() - 2);
    head_.clear();
    parse_headers(head);
    if (state_ != State::body) return used;
  }
  if (state_ == State::body)
    used += chunked_ ? feed_chunked(data.substr(used)) : feed_body(data.substr(used));
  return used;
}

size_t HttpParser::feed_body(std::string_view data) {
  size_t take = std::min(data.size(), content_length_ - request_.body.size());
  request_.body.append(data.substr(0, take));
  if (request_.body.size() == content_length_) state_ = State::complete;
  return take;
}

size_t HttpParser::feed_chunked(std::string_view data) {
  size_t used = 0;
  while (used < data.size() && state_ == State::body) {
    if (chunk_ == Chunk::data) {
      size_t take = std::min(chunk_left_, data.size() - used);
      request_.body.append(data.substr(used, take));
      used += take;
      chunk_left_ -= take;
      if (chunk_left_ == 0) chunk_ = Chunk::data_crlf;
      continue;
    }
    char c = data[used++];
    if (c != '\n') {
      if (line_.size() > 1024) return fail(400, "chunk line too long"), used;
      line_ += c;
      continue;
    }
    std::string_view line = trim(line_);
    if (chunk_ == Chunk::data_crlf) {
      if (!line.empty()) return fail(400, "chunk not followed by CRLF"), used;
      chunk_ = Chunk::size_line;
    } else if (chunk_ == Chunk::size_line) {
      line = line.substr(0, line.find(';'));  // chunk extensions are ignored
      size_t size = 0;
      auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
      if (line.empty() || ec != std::errc() || p != line.data() + line.size())
        return fail(400, "invalid chunk size"), used;
      if (size > max_body_bytes_ - request_.body.size())
        return fail(413, fmt::format("chunked body exceeds the limit of {} bytes", max_body_bytes_)), used;
      chunk_left_ = size;
      chunk_ = size == 0 ? Chunk::trailer : Chunk::data;
    } else if (line.empty()) {  // the blank line after the (ignored) trailers
      state_ = State::complete;
    }
    line_.clear();
  }
  return used;
}

std::string_view status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body, bool keep_alive,
                          std::string_view extra_headers) {
  std::string out =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Length: {}\r\n", status, status_text(status), body.size());
  if (!content_type.empty()) out += fmt::format("Content-Type: {}\r\n", content_type);
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace cp::otlp
