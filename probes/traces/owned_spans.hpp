// Spans kept past the reader's callback: a RawSpan's strings copied into an arena whose blocks do
// not move, so a batch of spans parsed on one thread can be handed to the assembler on another.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "probes/traces/span.hpp"

namespace cp::traces {

// Bytes in blocks that never move, kept for the next batch by reset() (no page is touched twice).
class Arena {
 public:
  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > left_) next_block(s.size());
    char* at = cursor_;
    std::memcpy(at, s.data(), s.size());
    cursor_ += s.size();
    left_ -= s.size();
    return {at, s.size()};
  }
  void reset() {
    used_ = 0;
    cursor_ = nullptr;
    left_ = 0;
  }

 private:
  static constexpr size_t kBlock = 1u << 20;
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size;
  };
  void next_block(size_t need) {
    while (used_ < blocks_.size() && blocks_[used_].size < need) ++used_;  // (too small: skipped)
    if (used_ == blocks_.size()) {
      size_t n = std::max(need, kBlock);
      blocks_.push_back({std::unique_ptr<char[]>(new char[n]), n});
    }
    cursor_ = blocks_[used_].bytes.get();
    left_ = blocks_[used_].size;
    ++used_;
  }
  std::vector<Block> blocks_;
  size_t used_ = 0;  // blocks handed out since reset()
  char* cursor_ = nullptr;
  size_t left_ = 0;
};

// Spans in the order they were read, their strings in the arena.
struct SpanBatch {
  std::vector<RawSpan> spans;
  Arena arena;

  void clear() {
    spans.clear();
    arena.reset();
  }
  void add(const RawSpan& raw) {
    // A new string field must be copied here too (the size check fails when one is added).
    static_assert(sizeof(RawSpan) == 488 && sizeof(std::string_view) == 16,
                  "RawSpan changed: copy its new strings in SpanBatch::add");
    RawSpan& s = spans.emplace_back(raw);
    for (std::string_view* f : {&s.name, &s.service, &s.db_system, &s.db_statement, &s.url, &s.http_method,
                                &s.http_route, &s.peer, &s.target_path, &s.component, &s.op, &s.remote_service,
                                &s.db_params, &s.peer_service, &s.db_collection, &s.messaging_system,
                                &s.messaging_destination, &s.messaging_operation, &s.rpc_method, &s.user_agent,
                                &s.host, &s.code_filepath, &s.code_function, &s.process_pid, &s.container_id})
      *f = arena.copy(*f);
  }
};

}  // namespace cp::traces
