#include "probes/otlp/receiver.hpp"

#include <zlib.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "probes/otlp/protobuf.hpp"

namespace cp::otlp {

namespace {

constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnimplemented = 12;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// google.rpc.Status {code = 1, message = 2} on the wire: what OTLP/HTTP answers an error with.
std::string status_protobuf(int code, std::string_view message) {
  std::string out;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  };
  out += static_cast<char>(0x08);
  varint(static_cast<uint64_t>(code));
  out += static_cast<char>(0x12);
  varint(message.size());
  out += message;
  return out;
}

int grpc_code(int http_status) {
  if (http_status == 429 || http_status == 413) return kGrpcResourceExhausted;
  if (http_status == 404 || http_status == 405 || http_status == 415) return kGrpcUnimplemented;
  return kGrpcInvalidArgument;
}

// The media type without parameters ("application/json; charset=utf-8" -> "application/json").
std::string media_type(const std::string& content_type) {
  std::string t = lower(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

}  // namespace

bool ExportQueue::push(Export e) {
  std::lock_guard lock(mutex_);
  // One export larger than the whole queue still goes in when the queue is empty.
  if (closed_ || (bytes_ > 0 && bytes_ + e.body.size() > max_bytes_)) return false;
  bytes_ += e.body.size();
  exports_.push_back(std::move(e));
  ready_.notify_one();
  return true;
}

std::optional<Export> ExportQueue::pop() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return closed_ || !exports_.empty(); });
  if (exports_.empty()) return std::nullopt;
  Export e = std::move(exports_.front());
  exports_.pop_front();
  bytes_ -= e.body.size();
  return e;
}

void ExportQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  ready_.notify_all();
}

size_t decode_export(Encoding encoding, std::string_view body, const traces::SpanSink& sink) {
  if (encoding == Encoding::protobuf) return read_export_protobuf(body, sink);
  traces::ReadStats stats;
  try {
    stats = traces::read_traces_buffer("export", body.data(), body.size(), sink);
  } catch (const traces::ReadError& e) {
    throw DecodeError{e.message};
  }
  if (stats.format != traces::Format::otlp_json && stats.format != traces::Format::otlp_jsonl)
    throw DecodeError{
        fmt::format("a {} document, not an OTLP ExportTraceServiceRequest", to_string(stats.format))};
  return stats.spans;
}

std::optional<std::string> gunzip(std::string_view in, size_t limit, bool& too_large) {
  too_large = false;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  std::string out;
  char buf[64 * 1024];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    size_t got = sizeof buf - zs.avail_out;
    if (out.size() + got > limit) {
      too_large = true;
      break;
    }
    out.append(buf, got);
    if (rc == Z_OK && got == 0 && zs.avail_in == 0) break;  // truncated stream
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || too_large) return std::nullopt;
  return out;
}

std::string Receiver::reply(int status, Encoding encoding, const std::string& message, bool keep_alive,
                            std::string_view extra_headers) {
  if (status == 200) {
    // An empty ExportTraceServiceResponse: full success.
    return encoding == Encoding::protobuf ? http_response(200, "application/x-protobuf", "", keep_alive)
                                          : http_response(200, "application/json", "{}", keep_alive);
  }
  stats_.last_error = fmt::format("{} {}: {}", status, status_text(status), message);
  if (encoding == Encoding::protobuf)
    return http_response(status, "application/x-protobuf", status_protobuf(grpc_code(status), message),
                         keep_alive, extra_headers);
  nlohmann::json body = {{"code", grpc_code(status)}, {"message", message}};
  return http_response(status, "application/json", body.dump(), keep_alive, extra_headers);
}

std::string Receiver::refuse(int status, const std::string& message) {
  (status == 413 ? stats_.exports_too_large : stats_.exports_malformed) += 1;
  return reply(status, Encoding::json, message, false);
}

std::string Receiver::handle(HttpRequest request) {
  bool keep_alive = request.keep_alive();
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string type = media_type(request.header("content-type"));
  Encoding encoding = type == "application/x-protobuf" ? Encoding::protobuf : Encoding::json;
  stats_.bytes_received += static_cast<double>(request.body.size());
  if (path != "/v1/traces") {
    stats_.exports_unsupported += 1;
    return reply(404, encoding, "chokepoint receives traces only, at POST /v1/traces", keep_alive);
  }
  if (request.method != "POST") {
    stats_.exports_unsupported += 1;
    return reply(405, encoding, "use POST", keep_alive, "Allow: POST\r\n");
  }
  if (type != "application/x-protobuf" && type != "application/json") {
    stats_.exports_unsupported += 1;
    return reply(415, encoding, "Content-Type must be application/x-protobuf or application/json",
                 keep_alive);
  }
  std::string content_encoding = lower(request.header("content-encoding"));
  std::string inflated;
  std::string_view body = request.body;
  if (content_encoding == "gzip") {
    bool too_large = false;
    auto plain = gunzip(request.body, max_body_bytes_, too_large);
    if (!plain) {
      (too_large ? stats_.exports_too_large : stats_.exports_malformed) += 1;
      return too_large
                 ? reply(413, encoding, fmt::format("the gzip body expands past {} bytes", max_body_bytes_),
                         keep_alive)
                 : reply(400, encoding, "the body is not valid gzip", keep_alive);
    }
    inflated = std::move(*plain);
    body = inflated;
  } else if (!content_encoding.empty() && content_encoding != "identity") {
    stats_.exports_unsupported += 1;
    return reply(415, encoding, "Content-Encoding must be gzip or none", keep_alive);
  }

  // Read it whole before accepting: a malformed export is refused as a whole, never half analysed.
  size_t spans = 0;
  try {
    spans = decode_export(encoding, body, [&](const traces::RawSpan&) { ++spans; });
  } catch (const DecodeError& e) {
    stats_.exports_malformed += 1;
    stats_.spans_rejected += static_cast<double>(spans);
    return reply(400, encoding, e.message, keep_alive);
  }
  Export e{encoding, content_encoding == "gzip" ? std::move(inflated) : std::move(request.body)};
  if (!queue_.push(std::move(e))) {
    stats_.exports_throttled += 1;
    stats_.spans_dropped += static_cast<double>(spans);
    return reply(429, encoding, "the analysis is behind: retry later", keep_alive, "Retry-After: 1\r\n");
  }
  stats_.exports_accepted += 1;
  (encoding == Encoding::protobuf ? stats_.exports_protobuf : stats_.exports_json) += 1;
  stats_.spans_received += static_cast<double>(spans);
  return reply(200, encoding, "", keep_alive);
}

}  // namespace cp::otlp
