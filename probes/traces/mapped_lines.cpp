// A regular file's OTLP JSON Lines read in place: mapped a window at a time, no copy into a buffer.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "probes/traces/input.hpp"

namespace cp::traces::input {

using simdjson::SIMDJSON_PADDING;

namespace {

// A regular file's JSON Lines, mapped a window at a time: no copy into a buffer, and the window's
// pages are released as it moves on, so memory stays flat however large the file. nullopt when the
// file is not JSON Lines (or cannot be mapped): the caller reads it instead.
//
// A mapped file that shrinks under the reader (copytruncate log rotation) raises SIGBUS on the pages
// past its new end. The handler puts zero pages in their place and marks the reader's thread: the
// reader then stops with a ReadError of this probe only (the other probes and the report go on).
// Only faults inside the map of the thread's reader are handled; any other SIGBUS keeps its action.
struct MapInUse {
  const char* begin = nullptr;
  size_t length = 0;
  volatile sig_atomic_t truncated = 0;
};
thread_local MapInUse* t_map_in_use = nullptr;
struct sigaction g_previous_sigbus {};

extern "C" void on_sigbus(int sig, siginfo_t* info, void* context) {
  MapInUse* m = t_map_in_use;
  const char* addr = static_cast<const char*>(info->si_addr);
  if (m && m->begin && addr >= m->begin && addr < m->begin + m->length) {
    // mmap is async-signal-safe in practice (a system call); MAP_FIXED replaces the file pages.
    void* z = mmap(const_cast<char*>(m->begin), m->length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    if (z != MAP_FAILED) {
      m->truncated = 1;
      return;
    }
  }
  // Not ours (or the pages could not be replaced): what would have happened without chokepoint.
  if (g_previous_sigbus.sa_flags & SA_SIGINFO && g_previous_sigbus.sa_sigaction) {
    g_previous_sigbus.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous_sigbus.sa_handler != SIG_DFL && g_previous_sigbus.sa_handler != SIG_IGN &&
      g_previous_sigbus.sa_handler) {
    g_previous_sigbus.sa_handler(sig);
    return;
  }
  signal(SIGBUS, SIG_DFL);
  raise(SIGBUS);
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous_sigbus);
  });
}

class MappedLines {
 public:
  MappedLines(int fd, size_t size, const std::string& name) : fd_(fd), size_(size), name_(name) {
    install_sigbus_handler();
    t_map_in_use = &in_use_;
  }
  ~MappedLines() {
    t_map_in_use = nullptr;
    unmap();
  }
  MappedLines(const MappedLines&) = delete;
  MappedLines& operator=(const MappedLines&) = delete;

  std::optional<ReadStats> read(const std::string& name, const SpanSink& sink, const ReadOptions& options) {
    // (A file with a byte order mark is read through the buffered path, which drops it.)
    if (!map_at(0)) return std::nullopt;
    bool jsonl = !bom_length(at(0), end_ - begin_) && first_line_is_otlp_request(at(0), end_ - begin_);
    check_not_truncated();
    if (!jsonl) return std::nullopt;
    if (options.threads > 1) {
      unmap();
      LineSource source;
      source.fd = fd_;
      source.size = size_;
      source.block_bytes = options.block_bytes;
      return read_lines_parallel(source, name, sink, options.threads);
    }
    Emitter e{sink};
    LineStream lines(name, e);
    ReadStats stats{Format::otlp_jsonl, size_, 0, 0};
    size_t pos = 0;  // file offset of the next line
    while (pos < size_) {
      const void* hit = std::memchr(at(pos), '\n', end_ - pos);
      check_not_truncated();
      size_t nl = hit ? static_cast<size_t>(static_cast<const char*>(hit) - at(0)) : end_;
      if (!hit && end_ < size_) {  // the line goes on past the window: move the window to it
        if (!map_at(pos)) throw ReadError{fmt::format("{}: cannot map: {}", name, std::strerror(errno))};
        continue;
      }
      ++stats.lines;
      size_t len = nl - pos;
      try {
        if (end_ - pos >= len + SIMDJSON_PADDING) {
          lines.line(at(pos), len, end_ - pos, stats.lines, pos, nl == size_);
        } else {  // too close to the end of the window for simdjson's padding: a padded copy
          padded_.assign(at(pos), at(pos) + len);
          padded_.resize(len + SIMDJSON_PADDING);
          lines.line(padded_.data(), len, padded_.size(), stats.lines, pos, nl == size_);
        }
      } catch (const ReadError&) {
        check_not_truncated();  // zeros where the file was are not a syntax error of the file
        throw;
      }
      check_not_truncated();
      pos = nl + 1;
    }
    stats.spans = e.spans;
    if (stats.lines <= 1) stats.format = Format::otlp_json;
    return stats;
  }

 private:
  void check_not_truncated() const {
    if (in_use_.truncated)
      throw ReadError{
          fmt::format("{}: the file shrank while it was being read (truncated by log rotation?): "
                      "read it again once it is complete",
                      name_)};
  }

  static constexpr size_t kWindow = 16u << 20;
  const char* at(size_t offset) const { return map_ + (offset - begin_); }

  // Maps [offset rounded down to a page, + window) — twice as much each time one line fills it.
  bool map_at(size_t offset) {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t start = offset / page * page;
    size_t want = kWindow;
    if (start == begin_ && map_ && end_ < size_) want = 2 * (end_ - begin_);  // one line, longer
    unmap();
    size_t len = std::min(want, size_ - start);
    void* m = mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, static_cast<off_t>(start));
    if (m == MAP_FAILED) return false;
    map_ = static_cast<const char*>(m);
    begin_ = start;
    end_ = start + len;
    in_use_.length = len;
    in_use_.begin = map_;
    return true;
  }
  void unmap() {
    in_use_.begin = nullptr;
    if (map_) munmap(const_cast<char*>(map_), end_ - begin_);
    map_ = nullptr;
  }

  int fd_;
  size_t size_;
  std::string name_;
  MapInUse in_use_;
  const char* map_ = nullptr;
  size_t begin_ = 0, end_ = 0;  // the file offsets mapped
  std::vector<char> padded_;
};

}  // namespace

std::optional<ReadStats> read_mapped_lines(int fd, size_t size, const std::string& name,
                                           const SpanSink& sink, const ReadOptions& options) {
  MappedLines mapped(fd, size, name);
  return mapped.read(name, sink, options);
}

}  // namespace cp::traces::input
