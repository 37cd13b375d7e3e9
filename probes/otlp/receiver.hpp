// The OTLP/HTTP endpoint's logic without sockets: one request in, one response out. Accepted
// exports go to a bounded queue that the analysis thread drains into the traces assembler.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "probes/otlp/http.hpp"
#include "probes/otlp/snapshot.hpp"
#include "probes/traces/readers.hpp"

namespace cp::otlp {

enum class Encoding { json, protobuf };

struct Export {
  Encoding encoding = Encoding::json;
  std::string body;  // decompressed
};

// Exports waiting for the analysis, bounded by their total size: when full, push refuses (429).
class ExportQueue {
 public:
  explicit ExportQueue(size_t max_bytes) : max_bytes_(max_bytes) {}
  bool push(Export e);
  std::optional<Export> pop();  // blocks; nullopt once closed and empty
  void close();

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Export> exports_;
  size_t bytes_ = 0, max_bytes_;
  bool closed_ = false;
};

// Every span of one export (JSON or protobuf) through the traces probe's OTLP mapping. Returns the
// number of spans; throws DecodeError for a body that is not an OTLP ExportTraceServiceRequest.
size_t decode_export(Encoding encoding, std::string_view body, const traces::SpanSink& sink);

// gzip to plain bytes, at most `limit` of them. Returns nullopt with `too_large` set when the
// expansion passes the limit, nullopt alone for a corrupt stream.
std::optional<std::string> gunzip(std::string_view in, size_t limit, bool& too_large);

class Receiver {
 public:
  Receiver(size_t max_body_bytes, ExportQueue& queue, ReceiverStats& stats)
      : max_body_bytes_(max_body_bytes), queue_(queue), stats_(stats) {}
  // The complete HTTP response to one parsed request.
  std::string handle(HttpRequest request);
  // The response to a request the parser refused (oversized, malformed framing); it is counted.
  std::string refuse(int status, const std::string& message);

 private:
  std::string reply(int status, Encoding encoding, const std::string& message, bool keep_alive,
                    std::string_view extra_headers = {});
  size_t max_body_bytes_;
  ExportQueue& queue_;
  ReceiverStats& stats_;
};

}  // namespace cp::otlp
