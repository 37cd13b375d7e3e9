#include "probes/otlp/collector.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <list>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "probes/otlp/protobuf.hpp"
#include "probes/otlp/receiver.hpp"
#include "probes/traces/assemble.hpp"
#include "probes/traces/collector.hpp"

namespace cp::otlp {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kReadChunk = 64 * 1024;
// Answers waiting for a client that does not read them: beyond this, its connection is not read
// either (a pipelining client that never reads would otherwise grow `out` without bound: an 18-byte
// request can earn a 200-byte answer). One read's answers may still pass it: at most ~12x kReadChunk.
constexpr size_t kMaxPendingAnswers = 64 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(30);

struct Limits {
  size_t max_body_bytes, queue_bytes, max_connections;
};

Limits limits_of(const CollectContext& ctx) {
  auto opt = [&](const char* name) { return ctx.option("otlp", name); };
  constexpr double kMiB = 1048576;
  return {static_cast<size_t>(std::max(0.001, opt("max_body_mb")) * kMiB),
          static_cast<size_t>(std::max(0.001, opt("queue_mb")) * kMiB),
          static_cast<size_t>(std::max(1.0, opt("max_connections")))};
}

// A listening socket, or -1 with `error` set.
int listen_on(const ListenAddress& a, std::string& error) {
  int fd = socket(a.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (a.v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<uint16_t>(a.port));
    inet_pton(AF_INET6, a.host.c_str(), &sa->sin6_addr);
    len = sizeof *sa;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<uint16_t>(a.port));
    inet_pton(AF_INET, a.host.c_str(), &sa->sin_addr);
    len = sizeof *sa;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 128) != 0) {
    error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

struct Connection {
  int fd = -1;
  HttpParser parser{kMaxHeaderBytes, 0};
  std::string out;       // response bytes not yet sent
  bool closing = false;  // close once `out` is sent
  Clock::time_point last_active = Clock::now();
};

// The HTTP/1.1 server loop: poll() over the listening socket and the connections until the window
// ends. Requests are answered in order; keep-alive connections stay open for the next export.
class Server {
 public:
  Server(int listen_fd, const Limits& limits, Receiver& receiver, ReceiverStats& stats)
      : listen_fd_(listen_fd), limits_(limits), receiver_(receiver), stats_(stats) {}
  ~Server() {
    for (auto& c : connections_) close(c.fd);
  }

  // Until the window ends or the run is interrupted.
  void run_through(const CollectContext& ctx) {
    std::vector<pollfd> fds;
    std::vector<Connection*> order;
    while (ctx.window_open()) {
      fds.clear();
      order.clear();
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& c : connections_) {
        short events = c.closing || c.out.size() >= kMaxPendingAnswers ? 0 : POLLIN;
        if (!c.out.empty()) events |= POLLOUT;
        fds.push_back({c.fd, events, 0});
        order.push_back(&c);
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(ctx.window_end - Clock::now()).count();
      int timeout = static_cast<int>(std::clamp<long long>(left, 0, 200));
      if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) accept_all();
      for (size_t i = 0; i < order.size(); ++i) {
        Connection& c = *order[i];
        short ev = fds[i + 1].revents;
        if (ev & (POLLIN | POLLHUP | POLLERR)) read_from(c);
        if (!c.out.empty() && c.fd >= 0) write_to(c);
        if (c.fd >= 0 && c.closing && c.out.empty()) drop(c);
        if (c.fd >= 0 && Clock::now() - c.last_active > kIdleTimeout) drop(c);
      }
      connections_.remove_if([](const Connection& c) { return c.fd < 0; });
    }
  }

 private:
  void accept_all() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (connections_.size() >= limits_.max_connections) {
        static const std::string busy =
            http_response(503, "text/plain", "too many connections", false, "Retry-After: 1\r\n");
        (void)!send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
        close(fd);
        continue;
      }
      stats_.connections += 1;
      Connection& c = connections_.emplace_back();
      c.fd = fd;
      c.parser = HttpParser(kMaxHeaderBytes, limits_.max_body_bytes);
    }
  }

  void read_from(Connection& c) {
    char buf[kReadChunk];
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      c.closing = true;  // the client closed (or failed): answer what is complete, then close
      if (c.out.empty()) drop(c);
      return;
    }
    if (n < 0) return;
    c.last_active = Clock::now();
    std::string_view data(buf, static_cast<size_t>(n));
    while (!data.empty() && !c.closing) {
      size_t used = c.parser.feed(data);
      data.remove_prefix(used);
      if (c.parser.wants_continue()) {
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
        c.parser.continue_sent();
      }
      if (c.parser.state() == HttpParser::State::error) {
        // The framing is broken or too large: answer and close, the rest of the stream is unusable.
        c.out += receiver_.refuse(c.parser.error_status(), c.parser.error_message());
        c.closing = true;
      } else if (c.parser.state() == HttpParser::State::complete) {
        HttpRequest request = c.parser.take();
        bool keep_alive = request.keep_alive();
        c.out += receiver_.handle(std::move(request));
        c.parser.reset();
        if (!keep_alive) c.closing = true;
      } else if (used == 0) {
        break;
      }
    }
  }

  void write_to(Connection& c) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      c.last_active = Clock::now();
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      drop(c);
    }
  }

  void drop(Connection& c) {
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
  }

  int listen_fd_;
  const Limits& limits_;
  Receiver& receiver_;
  ReceiverStats& stats_;
  std::list<Connection> connections_;  // stable addresses while the loop holds pointers
};

std::string nothing_received(const ReceiverStats& s, double window_s) {
  std::string refused;
  double rejected = s.exports_malformed + s.exports_too_large + s.exports_throttled + s.exports_unsupported;
  if (rejected > 0)
    refused =
        fmt::format(" ({:.0f} export{} refused; last: {})", rejected, rejected == 1 ? "" : "s", s.last_error);
  return fmt::format(
      "no spans received on {} during the {:g} s window{}: nothing to examine. Point the services' OTLP "
      "exporters at it (OTEL_EXPORTER_OTLP_ENDPOINT=http://{} with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf "
      "or "
      "http/json) and run the load inside the window",
      s.listen, window_s, refused, s.listen);
}

}  // namespace

bool ListenAddress::loopback() const {
  return v6 ? host == "::1" : host.rfind("127.", 0) == 0;
}

std::string ListenAddress::display() const {
  return v6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

ListenAddress parse_listen(const std::string& spec) {
  ListenAddress a;
  std::string host, port;
  if (!spec.empty() && spec.front() == '[') {
    auto close = spec.find("]:");
    if (close == std::string::npos)
      throw UsageError("--otlp-listen: expected [IPv6]:PORT, not \"" + spec + "\"");
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
    a.v6 = true;
  } else if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  } else {
    port = spec;
  }
  if (host.empty() || host == "localhost") host = a.v6 ? "::1" : "127.0.0.1";
  int p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535)
    throw UsageError("--otlp-listen: expected ADDR:PORT with a port from 1 to 65535, not \"" + spec + "\"");
  unsigned char probe[sizeof(in6_addr)];
  if (inet_pton(a.v6 ? AF_INET6 : AF_INET, host.c_str(), probe) != 1)
    throw UsageError("--otlp-listen: \"" + host +
                     "\" is not a numeric IP address (use 127.0.0.1, [::1], 0.0.0.0 …)");
  a.host = host;
  a.port = p;
  return a;
}

Collected collect(const Target& target, const CollectContext& ctx) {
  ListenAddress address = parse_listen(target.spec());
  Limits limits = limits_of(ctx);
  std::string error;
  int fd = listen_on(address, error);
  if (fd < 0)
    return {ProbeStatus::error,
            fmt::format("cannot listen on {}: {} (is another collector or chokepoint using the port?)",
                        address.display(), error),
            {}};

  Snapshot snap;
  snap.receiver.listen = address.display();
  snap.receiver.window_s = ctx.window_s;
  ExportQueue queue(limits.queue_bytes);
  traces::Assembler assembler = traces::assembler_for(ctx, "otlp");
  double analysed_bytes = 0;
  // Named, so that top -H and /proc/PID/task/*/comm say which side is busy (tests/bench/otlp_receiver.sh).
  pthread_setname_np(pthread_self(), "otlp-receiver");
  std::thread analysis([&] {
    pthread_setname_np(pthread_self(), "otlp-analysis");
    uint64_t base = 0;  // exports follow one another, like files: the horizon counts their bytes
    while (auto e = queue.pop()) {
      if (ctx.was_interrupted()) {  // the drain stops: what is queued is left unanalysed
        snap.receiver.exports_unanalysed += 1;
        continue;
      }
      try {
        decode_export(e->encoding, e->body, [&](const traces::RawSpan& s) { assembler.add(s, base); });
      } catch (const DecodeError&) {
        // Read once already before it was accepted; cannot fail here.
      }
      base += e->body.size();
    }
    analysed_bytes = static_cast<double>(base);
  });
  {
    Receiver receiver(limits.max_body_bytes, queue, snap.receiver);
    Server server(fd, limits, receiver, snap.receiver);
    server.run_through(ctx);
    close(fd);
  }
  queue.close();
  analysis.join();

  snap.traces = assembler.finish();
  if (snap.receiver.spans_received > 0)
    snap.traces.files.push_back(
        {"OTLP/HTTP " + address.display(), "otlp_http", analysed_bytes, snap.receiver.spans_received});
  nlohmann::json json_snapshot = snap;
  if (snap.receiver.spans_received == 0)
    return {ProbeStatus::error, nothing_received(snap.receiver, ctx.window_s), json_snapshot};
  return {ProbeStatus::ok, "", json_snapshot};
}

}  // namespace cp::otlp
