// #24: JSON Lines parsed on several threads hand the sink the very spans (every field, offsets,
// order), counts and errors the line-by-line reader does: from a buffer, a mapped file and a pipe,
// with blocks from one line to many, on the recorded captures and on broken files. Only the readers
// are needed (no test harness): -DCHOKEPOINT_TSAN=ON builds this file alone with them as
// reader_tests_tsan (tests/CMakeLists.txt).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "probes/traces/readers.hpp"

using namespace cp::traces;

namespace {

std::string reader_source_dir() {
  return CHOKEPOINT_SOURCE_DIR;
}

std::string reader_temp_file(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("chokepoint-reader-{}", getpid());
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

// Every field of a span, strings included, as text: two readings are equal when their texts are.
std::string describe(const RawSpan& s) {
  std::string out = fmt::format("{:x}{:x} {:x} {:x} {} {} {} {} {} {} {} {} {} {} {}|", s.trace.hi, s.trace.lo, s.id,
                                s.parent, s.start_ns, s.end_ns, static_cast<int>(s.kind), s.peer_port,
                                s.code_lineno, s.http_status, s.error, s.timeout, s.timed, s.offset, "");
  for (std::string_view f : {s.name, s.service, s.db_system, s.db_statement, s.url, s.http_method, s.http_route,
                             s.peer, s.target_path, s.component, s.op, s.remote_service, s.db_params,
                             s.peer_service, s.db_collection, s.messaging_system, s.messaging_destination,
                             s.messaging_operation, s.rpc_method, s.user_agent, s.host, s.code_filepath,
                             s.code_function, s.process_pid, s.container_id})
    out.append(f).push_back('|');
  return out;
}

struct Reading {
  std::vector<std::string> spans;
  std::string stats, error;
  bool operator==(const Reading&) const = default;
};

Reading read_with(const std::function<ReadStats(const SpanSink&)>& read) {
  Reading r;
  try {
    ReadStats st = read([&](const RawSpan& s) { r.spans.push_back(describe(s)); });
    r.stats = fmt::format("{} {} {} {}", to_string(st.format), st.bytes, st.spans, st.lines);
  } catch (const ReadError& e) {
    r.error = e.message;
  }
  return r;
}

Reading read_piped(const std::string& text, const ReadOptions& options) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::thread writer([&] {
    for (size_t done = 0; done < text.size();) {
      ssize_t n = write(fds[1], text.data() + done, std::min<size_t>(4096, text.size() - done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
  });
  Reading r = read_with([&](const SpanSink& sink) { return read_traces(fmt::format("/dev/fd/{}", fds[0]), sink, options); });
  writer.join();
  close(fds[0]);
  return r;
}

// The line-by-line reading of `text` and the parallel ones at several block sizes and thread counts,
// from a buffer, a file and a pipe.
void check_same_at_any_thread_count(const std::string& label, const std::string& text) {
  CAPTURE(label);
  std::string path = reader_temp_file("parallel.jsonl", text);
  Reading buffer_one = read_with([&](const SpanSink& sink) { return read_traces_buffer(label, text.data(), text.size(), sink); });
  Reading file_one = read_with([&](const SpanSink& sink) { return read_traces(path, sink); });
  Reading pipe_one = read_piped(text, {});
  for (size_t block : {size_t{1}, size_t{700}, size_t{64} << 10, size_t{0}}) {
    for (unsigned threads : {2u, 3u}) {
      CAPTURE(block);
      CAPTURE(threads);
      ReadOptions options{threads, block};
      CHECK(read_with([&](const SpanSink& sink) {
              return read_traces_buffer(label, text.data(), text.size(), sink, options);
            }) == buffer_one);
      CHECK(read_with([&](const SpanSink& sink) { return read_traces(path, sink, options); }) == file_one);
      CHECK(read_piped(text, options) == pipe_one);
    }
  }
}

std::string reader_slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("parallel JSON Lines: the recorded captures read the same at any thread count") {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(reader_source_dir() + "/tests/workloads/node/captures")) {
    if (entry.path().extension() != ".jsonl") continue;
    std::string text = reader_slurp(entry.path().string());
    check_same_at_any_thread_count(entry.path().filename().string(), text);
    ++files;
  }
  CHECK(files >= 10);
}

TEST_CASE("parallel JSON Lines: broken files fail with the line-by-line reader's message") {
  std::string capture = reader_slurp(reader_source_dir() + "/tests/workloads/node/captures/fanout_serial.otlp.jsonl");
  std::vector<std::string> lines;
  std::istringstream in(capture);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() >= 6);
  auto join = [](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };
  std::vector<std::string> bad = lines;
  bad[4] = bad[4].substr(0, bad[4].size() / 2);  // a line cut in the middle, then more lines
  check_same_at_any_thread_count("cut line", join(bad));
  bad = lines;
  bad[3] = "{\"resourceSpans\": 5}";  // valid JSON, not a request
  check_same_at_any_thread_count("wrong shape", join(bad));
  std::string unterminated = join(lines);
  unterminated.resize(unterminated.size() - 40);  // the last line ends mid-document, no newline
  check_same_at_any_thread_count("truncated last line", unterminated);
  bad = lines;
  bad.insert(bad.begin() + 2, {"", "   ", "\r"});  // blank lines are counted, not read
  std::string crlf = join(bad);
  check_same_at_any_thread_count("blank lines", crlf);
  // The error names the line in the whole file, whichever block it was in.
  bad = lines;
  bad[5] = "{not json";
  Reading r = read_with([&](const SpanSink& sink) {
    std::string text = join(bad);
    return read_traces_buffer("f.jsonl", text.data(), text.size(), sink, {2, 1});
  });
  CHECK(r.error.rfind("f.jsonl:6: ", 0) == 0);
}
