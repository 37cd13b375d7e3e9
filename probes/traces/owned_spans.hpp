// Spans kept past the reader's callback, to be handed from the thread that parsed them to the one
// that assembles them: each span packed into one byte stream (its fixed fields, then only the
// strings it has, each with its length), about a third of a RawSpan's size, and read back in order.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "probes/traces/span.hpp"

namespace cp::traces {

class SpanBatch {
 public:
  size_t size() const { return count_; }
  void clear() {
    used_ = 0;
    count_ = 0;
  }
  void reserve(size_t bytes) {
    if (bytes > capacity_) grow(bytes);
  }

  void add(const RawSpan& s) {
    static_assert(sizeof(RawSpan) == 488 && sizeof(std::string_view) == 16,
                  "RawSpan changed: pack its new fields in SpanBatch (kStrings, Fixed)");
    Fixed f{s.trace, s.id, s.parent, s.start_ns, s.end_ns, s.offset, s.code_lineno, s.http_status, 0, s.peer_port,
            static_cast<uint8_t>(s.kind),
            static_cast<uint8_t>((s.error ? 1 : 0) | (s.timeout ? 2 : 0) | (s.timed ? 4 : 0))};
    size_t need = sizeof(Fixed);
    for (size_t i = 0; i < kStrings.size(); ++i) {
      size_t n = (s.*kStrings[i]).size();
      if (n) {
        f.present |= 1u << i;
        need += sizeof(uint32_t) + n;
      }
    }
    if (used_ + need > capacity_) grow(2 * (used_ + need));
    char* at = bytes_.get() + used_;
    std::memcpy(at, &f, sizeof f);
    at += sizeof f;
    for (size_t i = 0; i < kStrings.size(); ++i) {
      if (!(f.present >> i & 1)) continue;
      std::string_view v = s.*kStrings[i];
      auto n = static_cast<uint32_t>(v.size());
      std::memcpy(at, &n, sizeof n);
      std::memcpy(at + sizeof n, v.data(), n);
      at += sizeof n + n;
    }
    used_ += need;
    ++count_;
  }

  // Every span in the order added, as a RawSpan whose strings point into the batch.
  template <typename F>
  void for_each(F&& f) const {
    const char* at = bytes_.get();
    RawSpan s;
    for (size_t k = 0; k < count_; ++k) {
      Fixed x;
      std::memcpy(&x, at, sizeof x);
      at += sizeof x;
      s.trace = x.trace;
      s.id = x.id;
      s.parent = x.parent;
      s.start_ns = x.start_ns;
      s.end_ns = x.end_ns;
      s.offset = x.offset;
      s.code_lineno = x.code_lineno;
      s.http_status = x.http_status;
      s.peer_port = x.peer_port;
      s.kind = static_cast<SpanKind>(x.kind);
      s.error = x.flags & 1;
      s.timeout = x.flags & 2;
      s.timed = x.flags & 4;
      for (size_t i = 0; i < kStrings.size(); ++i) {
        if (!(x.present >> i & 1)) {
          s.*kStrings[i] = {};
          continue;
        }
        uint32_t n;
        std::memcpy(&n, at, sizeof n);
        s.*kStrings[i] = {at + sizeof n, n};
        at += sizeof n + n;
      }
      f(static_cast<const RawSpan&>(s));
    }
  }

 private:
  struct Fixed {
    TraceId trace;
    uint64_t id, parent;
    int64_t start_ns, end_ns;
    uint64_t offset;
    int64_t code_lineno;
    int32_t http_status;
    uint32_t present;  // bit i: kStrings[i] is not empty
    uint16_t peer_port;
    uint8_t kind, flags;
  };
  static constexpr std::array<std::string_view RawSpan::*, 25> kStrings{
      &RawSpan::name,           &RawSpan::service,          &RawSpan::db_system,
      &RawSpan::db_statement,   &RawSpan::url,              &RawSpan::http_method,
      &RawSpan::http_route,     &RawSpan::peer,             &RawSpan::target_path,
      &RawSpan::component,      &RawSpan::op,               &RawSpan::remote_service,
      &RawSpan::db_params,      &RawSpan::peer_service,     &RawSpan::db_collection,
      &RawSpan::messaging_system, &RawSpan::messaging_destination, &RawSpan::messaging_operation,
      &RawSpan::rpc_method,     &RawSpan::user_agent,       &RawSpan::host,
      &RawSpan::code_filepath,  &RawSpan::code_function,    &RawSpan::process_pid,
      &RawSpan::container_id};

  // Grows without zeroing (every byte is written before it is read).
  void grow(size_t bytes) {
    std::unique_ptr<char[]> bigger(new char[bytes]);
    if (used_) std::memcpy(bigger.get(), bytes_.get(), used_);
    bytes_ = std::move(bigger);
    capacity_ = bytes;
  }
  std::unique_ptr<char[]> bytes_;
  size_t used_ = 0, capacity_ = 0, count_ = 0;
};

}  // namespace cp::traces
