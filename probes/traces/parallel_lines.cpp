// OTLP JSON Lines on several cores. The calling thread cuts the input into blocks of whole lines;
// workers parse blocks into batches of spans (strings copied out of the parser); the calling thread
// hands each batch to the sink in file order. The sink sees the very spans, offsets and order the
// line-by-line reader gives it, and an error is the one that reader would have thrown: the first in
// the file, with its global line number. At most a few blocks are in flight, so memory stays flat.
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "probes/traces/input.hpp"
#include "probes/traces/owned_spans.hpp"

namespace cp::traces::input {

using simdjson::SIMDJSON_PADDING;

namespace {

constexpr size_t kDefaultBlock = 2u << 20;
// Beyond this many parsing threads the one assembling thread is the slower stage whatever the
// machine; a bound on them is a bound on memory: each holds a block, and twice as many blocks wait.
constexpr unsigned kMaxWorkers = 8;

struct Job {
  size_t offset = 0;             // in the input, of the block's first byte
  size_t length = 0;             // whole lines (the last one may end the input without a newline)
  const char* data = nullptr;    // in memory (a buffer, a stream's chunk); null: mapped by the worker
  size_t capacity = 0;           // readable bytes from data
  std::unique_ptr<char[]> owned;  // a stream's chunk
};

struct Slot {
  Job job;
  SpanBatch batch;
  size_t lines = 0;
  std::optional<LineFailure> failure;  // numbered within the block
  std::string message;                 // a failure that names no line
  std::exception_ptr error;
  bool done = false;
};

// One worker's parser and scratch, reused block after block.
struct Worker {
  explicit Worker(const std::string& name) : lines(name, emitter, true) {}
  Slot* slot = nullptr;
  SpanSink sink = [this](const RawSpan& s) { slot->batch.add(s); };
  Emitter emitter{sink};
  LineStream lines;
  std::vector<char> padded;
  // A file's block, read whole (not zeroed first: it is written before it is read).
  struct Buffer {
    std::unique_ptr<char[]> bytes;
    size_t length = 0;
    void reset(size_t n) {
      bytes.reset(new char[n]);
      length = n;
    }
    char* data() { return bytes.get(); }
    size_t size() const { return length; }
  } buffer;
};

class Pipeline {
 public:
  Pipeline(const LineSource& source, const std::string& name, unsigned threads)
      : source_(source), name_(name), block_(source.block_bytes ? source.block_bytes : kDefaultBlock),
        slots_(2 * threads + 2) {
    for (Slot& slot : slots_) slot.batch.reserve(block_);  // a block's spans packed: rarely more than it
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
    if (source_.stream) {
      carry_.assign(source_.prefix.begin(), source_.prefix.end());
      stream_eof_ = source_.prefix_eof;
    }
  }
  ~Pipeline() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_workers_.notify_all();
    for (auto& t : threads_) t.join();
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  ReadStats run(const SpanSink& sink);

 private:
  bool next_job(Job& job);
  bool next_stream_job(Job& job);
  size_t line_end_in_file(size_t from) const;
  void work();
  void parse(Worker& w, Slot& slot);
  void parse_lines(Worker& w, Slot& slot, const char* base, size_t capacity);
  std::string shrank_message() const;
  void replay(Slot& slot, const SpanSink& sink, ReadStats& stats);

  const LineSource& source_;
  const std::string& name_;
  const size_t block_;
  size_t cursor_ = 0;  // the next block's offset
  std::string carry_;  // a stream: bytes read past the last whole line
  bool stream_eof_ = false;
  std::vector<Slot> slots_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_workers_, wake_reader_;
  size_t submitted_ = 0, taken_ = 0;  // jobs queued, jobs a worker took (slot = index % size)
  bool stop_ = false;
};

// A regular file: the end of the line that `from` is in (past its newline), read with pread.
size_t Pipeline::line_end_in_file(size_t from) const {
  char buf[1 << 16];
  while (from < source_.size) {
    ssize_t n = pread(source_.fd, buf, std::min(sizeof buf, source_.size - from), static_cast<off_t>(from));
    if (n <= 0) return source_.size;  // shrank or unreadable: the worker reading the block says so
    if (const void* hit = std::memchr(buf, '\n', static_cast<size_t>(n)))
      return from + static_cast<size_t>(static_cast<const char*>(hit) - buf) + 1;
    from += static_cast<size_t>(n);
  }
  return source_.size;
}

bool Pipeline::next_job(Job& job) {
  if (source_.stream) return next_stream_job(job);
  if (cursor_ >= source_.size) return false;
  size_t end = source_.size;
  if (source_.size - cursor_ > block_) {
    size_t nominal = cursor_ + block_ - 1;  // the block ends with the line this byte is in
    if (source_.data) {
      const void* hit = std::memchr(source_.data + nominal, '\n', source_.size - nominal);
      end = hit ? static_cast<size_t>(static_cast<const char*>(hit) - source_.data) + 1 : source_.size;
    } else {
      end = line_end_in_file(nominal);
    }
  }
  job.offset = cursor_;
  job.length = end - cursor_;
  if (source_.data) {
    job.data = source_.data + cursor_;
    job.capacity = source_.capacity - cursor_;
  }
  cursor_ = end;
  return true;
}

// A stream: the next chunk of whole lines (a line longer than a chunk makes the chunk longer).
bool Pipeline::next_stream_job(Job& job) {
  size_t cut = std::string::npos;
  while (!stream_eof_) {
    size_t have = carry_.size();
    if (have >= block_ && (cut = carry_.rfind('\n')) != std::string::npos) break;
    carry_.resize(have + block_);
    size_t n = std::fread(carry_.data() + have, 1, block_, source_.stream);
    carry_.resize(have + n);
    if (std::ferror(source_.stream)) throw ReadError{fmt::format("{}: read error: {}", name_, std::strerror(errno))};
    stream_eof_ = n == 0 || std::feof(source_.stream);
  }
  if (carry_.empty()) return false;
  size_t length = stream_eof_ ? carry_.size() : cut + 1;
  job.owned.reset(new char[length + SIMDJSON_PADDING]);
  std::memcpy(job.owned.get(), carry_.data(), length);
  job.data = job.owned.get();
  job.capacity = length + SIMDJSON_PADDING;
  job.offset = cursor_;
  job.length = length;
  cursor_ += length;
  carry_.erase(0, length);
  return true;
}

void Pipeline::work() {
  Worker w(name_);
  for (;;) {
    Slot* slot;
    {
      std::unique_lock lock(mutex_);
      wake_workers_.wait(lock, [&] { return stop_ || taken_ < submitted_; });
      if (stop_) return;
      slot = &slots_[taken_++ % slots_.size()];
    }
    try {
      parse(w, *slot);
    } catch (...) {
      slot->error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      slot->done = true;
    }
    wake_reader_.notify_one();
  }
}

// A block of a file: read here with pread into this worker's buffer (no map to undo: unmapping in a
// process with several threads costs every core a TLB flush), so the bytes are warm in this core's
// cache when they are parsed. A file that shrank under the reader says so, as the mapped reader does.
void Pipeline::parse(Worker& w, Slot& slot) {
  const Job& job = slot.job;
  if (job.data) return parse_lines(w, slot, job.data, job.capacity);
  if (w.buffer.size() < job.length + SIMDJSON_PADDING) w.buffer.reset(job.length + SIMDJSON_PADDING);
  size_t got = 0;
  while (got < job.length) {
    ssize_t n = pread(source_.fd, w.buffer.data() + got, job.length - got, static_cast<off_t>(job.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      slot.message = fmt::format("{}: read error: {}", name_, std::strerror(errno));
      return;
    }
    if (n == 0) {
      slot.message = shrank_message();
      return;
    }
    got += static_cast<size_t>(n);
  }
  parse_lines(w, slot, w.buffer.data(), w.buffer.size());
}

std::string Pipeline::shrank_message() const {
  return fmt::format(
      "{}: the file shrank while it was being read (truncated by log rotation?): read it again once it is "
      "complete",
      name_);
}

void Pipeline::parse_lines(Worker& w, Slot& slot, const char* base, size_t capacity) {
  const Job& job = slot.job;
  w.slot = &slot;
  size_t pos = 0;
  while (pos < job.length) {
    const void* hit = std::memchr(base + pos, '\n', job.length - pos);
    size_t nl = hit ? static_cast<size_t>(static_cast<const char*>(hit) - base) : job.length;
    ++slot.lines;
    size_t len = nl - pos;
    try {
      if (capacity - pos >= len + SIMDJSON_PADDING) {
        w.lines.line(base + pos, len, capacity - pos, slot.lines, job.offset + pos, !hit);
      } else {  // too close to the end of the map for simdjson's padding: a padded copy
        w.padded.assign(base + pos, base + nl);
        w.padded.resize(len + SIMDJSON_PADDING);
        w.lines.line(w.padded.data(), len, w.padded.size(), slot.lines, job.offset + pos, !hit);
      }
    } catch (const LineFailure& f) {
      slot.failure = f;
      return;
    }
    pos = nl + 1;
  }
}

void Pipeline::replay(Slot& slot, const SpanSink& sink, ReadStats& stats) {
  slot.batch.for_each(sink);
  stats.spans += slot.batch.size();
  if (slot.error) std::rethrow_exception(slot.error);
  if (slot.failure)
    throw ReadError{fmt::format("{}:{}: {}", name_, stats.lines + slot.failure->line_no, slot.failure->detail)};
  if (!slot.message.empty()) throw ReadError{slot.message};
  stats.lines += slot.lines;
}

ReadStats Pipeline::run(const SpanSink& sink) {
  ReadStats stats{Format::otlp_jsonl, 0, 0, 0};
  size_t consumed = 0;
  bool exhausted = false;
  for (;;) {
    while (!exhausted && submitted_ - consumed < slots_.size()) {
      Slot& slot = slots_[submitted_ % slots_.size()];
      if (!next_job(slot.job)) {
        exhausted = true;
        break;
      }
      {
        std::lock_guard lock(mutex_);
        ++submitted_;
      }
      wake_workers_.notify_one();
    }
    if (consumed == submitted_) break;
    Slot& slot = slots_[consumed % slots_.size()];
    {
      std::unique_lock lock(mutex_);
      wake_reader_.wait(lock, [&] { return slot.done; });
    }
    replay(slot, sink, stats);
    slot.batch.clear();
    slot.job = Job{};
    slot.lines = 0;
    slot.done = false;
    ++consumed;
  }
  stats.bytes = cursor_;
  if (stats.lines <= 1) stats.format = Format::otlp_json;  // one request on one line
  return stats;
}

}  // namespace

ReadStats read_lines_parallel(const LineSource& source, const std::string& name, const SpanSink& sink,
                              unsigned threads) {
  // The calling thread feeds the sink (the assembler, the slower stage): it is one of the threads.
  Pipeline pipeline(source, name, std::clamp(threads - 1, 1u, kMaxWorkers));
  return pipeline.run(sink);
}

}  // namespace cp::traces::input
