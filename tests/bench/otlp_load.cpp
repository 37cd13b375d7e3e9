// The OTLP receiver benchmark's load generator (tests/bench/otlp_receiver.sh): pre-encoded
// ExportTraceServiceRequests (tests/bench/otlp_bodies.py) POSTed to /v1/traces over N keep-alive
// connections, one blocking thread each, as fast as the receiver answers or at --rate spans per
// second in all (paced per connection; a connection that fell behind does not catch up in a burst).
// Like an SDK exporter, a 429 or 503 is retried with the same export after its Retry-After.
//
//   otlp_load send HOST:PORT BODIES [--gzip] [--connections N] [--seconds S] [--rate SPANS_PER_S]
//   otlp_load sink PORT [--seconds S]    a null receiver (200 to everything): the generator's ceiling
//
// `send` prints one JSON object: answers by status, spans in accepted exports, latency percentiles,
// connection errors, and the accepted spans per second of each second.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Body {
  std::string header;  // the request line and headers
  std::string bytes;
  uint32_t spans = 0;
};

std::vector<Body> load_bodies(const std::string& path, bool gzip, const std::string& host) {
  std::ifstream in(path, std::ios::binary);
  std::vector<Body> out;
  uint32_t head[2];
  while (in.read(reinterpret_cast<char*>(head), sizeof head)) {
    Body b;
    b.bytes.resize(head[0]);
    b.spans = head[1];
    if (!in.read(b.bytes.data(), head[0])) break;
    b.header = "POST /v1/traces HTTP/1.1\r\nHost: " + host +
               "\r\nUser-Agent: otlp_load\r\nContent-Type: application/x-protobuf\r\n" +
               (gzip ? "Content-Encoding: gzip\r\n" : "") + "Content-Length: " + std::to_string(head[0]) +
               "\r\n\r\n";
    out.push_back(std::move(b));
  }
  return out;
}

bool send_all(int fd, const std::string& a, const std::string& b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  size_t left = a.size() + b.size();
  int first = 0;
  while (left > 0) {
    msghdr msg{};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = 2 - first;
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    left -= static_cast<size_t>(n);
    for (size_t used = static_cast<size_t>(n); used > 0 && first < 2;) {
      size_t take = std::min(used, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      used -= take;
      if (iov[first].iov_len == 0) ++first;
    }
  }
  return true;
}

// A header's value in a response head ("retry-after" lowercase), or "" without it.
std::string header_value(const std::string& head, const char* name) {
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string key = std::string("\r\n") + name + ":";
  size_t at = lower.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size(), end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

struct Response {
  int status = 0;  // 0: the connection failed
  bool has_retry_after = false;
  int retry_after_s = 0;
};

// Reads one response from `fd`; `buf` keeps bytes past it (none without pipelining).
Response read_response(int fd, std::string& buf) {
  char chunk[4096];
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    buf.append(chunk, static_cast<size_t>(n));
  }
  std::string head = buf.substr(0, end + 2);
  Response r;
  if (head.size() > 12) r.status = std::atoi(head.c_str() + 9);
  std::string retry = header_value(head, "retry-after");
  r.has_retry_after = !retry.empty();
  r.retry_after_s = std::atoi(retry.c_str());
  size_t length = std::strtoul(header_value(head, "content-length").c_str(), nullptr, 10);
  while (buf.size() < end + 4 + length) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    buf.append(chunk, static_cast<size_t>(n));
  }
  buf.erase(0, end + 4 + length);
  return r;
}

int connect_to(const sockaddr_in& addr, Clock::time_point give_up) {
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    close(fd);
    if (Clock::now() > give_up) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

struct Tally {
  std::map<int, uint64_t> answers;  // by status; 0: connection failed before an answer
  uint64_t spans_accepted = 0, spans_throttled = 0, retry_after_missing = 0, connection_errors = 0;
  uint64_t bytes_sent = 0;
  std::vector<double> latency_ms;       // every answered request
  std::vector<uint64_t> accepted_by_s;  // spans in 200-answered exports, per second since the start
};

struct Run {
  const std::vector<Body>& bodies;
  sockaddr_in addr;
  Clock::time_point start, stop;
  double connection_rate = 0;  // spans per second on each connection; 0: as fast as answered
  std::atomic<uint64_t> next{0};
};

void drive(Run& run, Tally& t) {
  int fd = connect_to(run.addr, run.start + std::chrono::seconds(10));
  std::string buf;
  auto due = run.start;
  while (fd >= 0 && Clock::now() < run.stop) {
    if (run.connection_rate > 0) {
      std::this_thread::sleep_until(due);
      if (Clock::now() >= run.stop) break;
    }
    const Body& b = run.bodies[run.next.fetch_add(1) % run.bodies.size()];
    due = std::max(due, Clock::now() - std::chrono::milliseconds(10)) +
          std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(run.connection_rate > 0 ? b.spans / run.connection_rate : 0));
    for (;;) {  // the same export until it is accepted, refused for good, or the run ends
      auto sent = Clock::now();
      Response r = send_all(fd, b.header, b.bytes) ? read_response(fd, buf) : Response{};
      auto done = Clock::now();
      t.answers[r.status] += 1;
      if (r.status == 0) {
        t.connection_errors += 1;
        close(fd);
        buf.clear();
        fd = connect_to(run.addr, done + std::chrono::seconds(2));
        break;
      }
      t.bytes_sent += b.header.size() + b.bytes.size();
      t.latency_ms.push_back(std::chrono::duration<double, std::milli>(done - sent).count());
      if (r.status == 200) {
        t.spans_accepted += b.spans;
        size_t second = static_cast<size_t>(std::chrono::duration<double>(done - run.start).count());
        if (t.accepted_by_s.size() <= second) t.accepted_by_s.resize(second + 1);
        t.accepted_by_s[second] += b.spans;
        break;
      }
      if (r.status != 429 && r.status != 503) break;
      if (r.status == 429) t.spans_throttled += b.spans;
      if (!r.has_retry_after) t.retry_after_missing += 1;
      auto resume = done + std::chrono::seconds(std::max(r.retry_after_s, r.has_retry_after ? 0 : 1));
      if (resume >= run.stop) {  // the run ends before the retry: this connection is done
        close(fd);
        return;
      }
      std::this_thread::sleep_until(resume);
    }
  }
  if (fd >= 0) close(fd);
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())))];
}

void print_summary(const std::vector<Tally>& tallies, double elapsed_s, int connections, bool gzip) {
  Tally all;
  for (const Tally& t : tallies) {
    for (auto [status, n] : t.answers) all.answers[status] += n;
    all.spans_accepted += t.spans_accepted;
    all.spans_throttled += t.spans_throttled;
    all.retry_after_missing += t.retry_after_missing;
    all.connection_errors += t.connection_errors;
    all.bytes_sent += t.bytes_sent;
    all.latency_ms.insert(all.latency_ms.end(), t.latency_ms.begin(), t.latency_ms.end());
    if (all.accepted_by_s.size() < t.accepted_by_s.size()) all.accepted_by_s.resize(t.accepted_by_s.size());
    for (size_t i = 0; i < t.accepted_by_s.size(); ++i) all.accepted_by_s[i] += t.accepted_by_s[i];
  }
  std::sort(all.latency_ms.begin(), all.latency_ms.end());
  std::printf("{\"connections\": %d, \"gzip\": %s, \"elapsed_s\": %.3f, \"answers\": {", connections,
              gzip ? "true" : "false", elapsed_s);
  const char* sep = "";
  for (auto [status, n] : all.answers) {
    std::printf("%s\"%d\": %llu", sep, status, static_cast<unsigned long long>(n));
    sep = ", ";
  }
  std::printf(
      "}, \"spans_accepted\": %llu, \"spans_throttled\": %llu, \"retry_after_missing\": %llu, "
      "\"connection_errors\": %llu, \"bytes_sent\": %llu, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, "
      "\"max\": %.3f}, \"accepted_by_s\": [",
      static_cast<unsigned long long>(all.spans_accepted),
      static_cast<unsigned long long>(all.spans_throttled),
      static_cast<unsigned long long>(all.retry_after_missing),
      static_cast<unsigned long long>(all.connection_errors), static_cast<unsigned long long>(all.bytes_sent),
      percentile(all.latency_ms, 0.5), percentile(all.latency_ms, 0.99),
      all.latency_ms.empty() ? 0.0 : all.latency_ms.back());
  for (size_t i = 0; i < all.accepted_by_s.size(); ++i)
    std::printf("%s%llu", i ? ", " : "", static_cast<unsigned long long>(all.accepted_by_s[i]));
  std::printf("]}\n");
}

sockaddr_in parse_address(const std::string& spec) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  size_t colon = spec.rfind(':');
  std::string host = colon == std::string::npos ? "127.0.0.1" : spec.substr(0, colon);
  addr.sin_port =
      htons(static_cast<uint16_t>(std::atoi(spec.c_str() + (colon == std::string::npos ? 0 : colon + 1))));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "otlp_load: %s is not a numeric IPv4 address\n", host.c_str());
    std::exit(2);
  }
  return addr;
}

int send_load(const std::string& target, const std::string& path, bool gzip, int connections, double seconds,
              double rate) {
  auto bodies = load_bodies(path, gzip, target);
  if (bodies.empty()) {
    std::fprintf(stderr, "otlp_load: no exports in %s\n", path.c_str());
    return 2;
  }
  // The clock starts once the receiver listens: its start-up is not counted as load time.
  sockaddr_in addr = parse_address(target);
  int probe = connect_to(addr, Clock::now() + std::chrono::seconds(10));
  if (probe < 0) {
    std::fprintf(stderr, "otlp_load: nothing listens on %s\n", target.c_str());
    return 1;
  }
  close(probe);
  Run run{bodies, addr, Clock::now(), {}};
  run.stop = run.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  run.connection_rate = rate / connections;
  std::vector<Tally> tallies(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  for (auto& t : tallies) threads.emplace_back([&run, &t] { drive(run, t); });
  for (auto& th : threads) th.join();
  // The whole run, also when every connection stopped early (a Retry-After past its end).
  print_summary(tallies, std::chrono::duration<double>(std::max(Clock::now(), run.stop) - run.start).count(),
                connections, gzip);
  return 0;
}

// The null receiver: reads each request's head and Content-Length body, answers 200 at once.
void sink_connection(int fd) {
  static const std::string ok =
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Type: application/x-protobuf\r\n"
      "Connection: keep-alive\r\n\r\n";
  std::string head;
  std::vector<char> chunk(256 * 1024);
  for (;;) {
    size_t end;
    while ((end = head.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, chunk.data(), chunk.size(), 0);
      if (n <= 0) return (void)close(fd);
      head.append(chunk.data(), static_cast<size_t>(n));
    }
    size_t length =
        std::strtoul(header_value(head.substr(0, end + 2), "content-length").c_str(), nullptr, 10);
    size_t have = head.size() - end - 4;
    std::string rest = have > length ? head.substr(end + 4 + length) : std::string();
    for (size_t left = length - std::min(have, length); left > 0;) {
      ssize_t n = recv(fd, chunk.data(), std::min(left, chunk.size()), 0);
      if (n <= 0) return (void)close(fd);
      left -= static_cast<size_t>(n);
    }
    head = rest;
    if (send(fd, ok.data(), ok.size(), MSG_NOSIGNAL) <= 0) return (void)close(fd);
  }
}

int sink(int port, double seconds) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    std::perror("otlp_load sink");
    return 1;
  }
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::exit(0);
  }).detach();
  for (;;) {
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) std::thread(sink_connection, c).detach();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto option = [&](const std::string& name, double fallback) {
    auto it = std::find(args.begin(), args.end(), name);
    return it != args.end() && it + 1 != args.end() ? std::atof((it + 1)->c_str()) : fallback;
  };
  bool gzip = std::find(args.begin(), args.end(), "--gzip") != args.end();
  if (args.size() >= 3 && args[0] == "send")
    return send_load(args[1], args[2], gzip, static_cast<int>(option("--connections", 4)),
                     option("--seconds", 10), option("--rate", 0));
  if (args.size() >= 2 && args[0] == "sink") return sink(std::atoi(args[1].c_str()), option("--seconds", 60));
  std::fprintf(
      stderr,
      "usage: otlp_load send HOST:PORT BODIES [--gzip] [--connections N] [--seconds S] [--rate SPANS_PER_S]\n"
      "       otlp_load sink PORT [--seconds S]\n");
  return 2;
}
