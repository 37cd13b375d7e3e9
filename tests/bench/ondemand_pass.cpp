// Benchmark baseline (not a test): a bare simdjson On-Demand pass over an OTLP JSON Lines file —
// every span visited, its ids, name and times read, nothing else — to put chokepoint's own reading
// speed in proportion (tests/bench/traces_throughput.sh prints the ratio).
//   bench_ondemand_pass FILE   -> "<spans> <seconds>"
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

using namespace simdjson;

namespace {

size_t spans_of_line(ondemand::parser& parser, const char* p, size_t len, size_t capacity,
                     uint64_t& checksum) {
  size_t spans = 0;
  ondemand::document doc = parser.iterate(p, len, capacity);
  for (auto rs : doc["resourceSpans"].get_array())
    for (auto field : rs.get_object()) {
      if (std::string_view(field.unescaped_key()) != "scopeSpans") continue;
      for (auto scope : field.value().get_array())
        for (auto sf : scope.get_object()) {
          if (std::string_view(sf.unescaped_key()) != "spans") continue;
          for (auto span : sf.value().get_array()) {
            for (auto f : span.get_object()) {
              std::string_view k = f.unescaped_key();
              if (k == "traceId" || k == "spanId" || k == "parentSpanId" || k == "name")
                checksum += std::string_view(f.value().get_string()).size();
              else if (k == "startTimeUnixNano" || k == "endTimeUnixNano")
                checksum += f.value().get_uint64_in_string().value_unsafe();
            }
            ++spans;
          }
        }
    }
  return spans;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.jsonl\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::perror(argv[1]);
    return 3;
  }
  auto start = std::chrono::steady_clock::now();
  size_t size = static_cast<size_t>(st.st_size);
  // Mapped whole, with simdjson's padding readable past the end (a page more).
  size_t map_len = size + SIMDJSON_PADDING;
  auto* data = static_cast<const char*>(mmap(nullptr, map_len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0));
  if (data == MAP_FAILED) {
    std::perror("mmap");
    return 3;
  }
  ondemand::parser parser;
  std::string padded;
  size_t spans = 0, pos = 0;
  uint64_t checksum = 0;
  while (pos < size) {
    const void* hit = std::memchr(data + pos, '\n', size - pos);
    size_t nl = hit ? static_cast<size_t>(static_cast<const char*>(hit) - data) : size;
    if (nl > pos) {
      if (size - pos >= nl - pos + SIMDJSON_PADDING) {
        spans += spans_of_line(parser, data + pos, nl - pos, size - pos, checksum);
      } else {  // the last line: a padded copy
        padded.assign(data + pos, nl - pos);
        padded.resize(nl - pos + SIMDJSON_PADDING);
        spans += spans_of_line(parser, padded.data(), nl - pos, padded.size(), checksum);
      }
    }
    pos = nl + 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu %.6f %llu\n", spans, seconds, static_cast<unsigned long long>(checksum % 1000));
  return 0;
}
