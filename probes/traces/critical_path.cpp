// The critical path of one request and what its time was spent on, span by span (the per-child
// accounting of the assembler): database, cache, external calls, network gaps and own code.
#include <algorithm>

#include "probes/traces/assemble.hpp"

namespace cp::traces {

// Jaeger UI's critical path: from the end of a span, walk back through the child that finished
// last before that point, into it, then on from its start; time no child covers is the span's
// own. Children are clipped to their parent (clock skew). Every nanosecond of the request lands
// on exactly one span: `self_path` adds up to the request's duration.
void Assembler::walk_critical_path(uint32_t root) {
  frames_.clear();
  auto push = [&](uint32_t n, int64_t from, int64_t to) {
    nodes_[n].path += to - from;
    frames_.push_back({n, from, to, to, 0});
  };
  push(root, nodes_[root].span->start_ns, nodes_[root].span->end_ns);
  while (!frames_.empty()) {
    Frame f = frames_.back();
    Node& n = nodes_[f.node];
    uint32_t found = ~0u;
    int64_t found_start = 0, found_end = 0;
    while (f.next < n.count) {
      uint32_t c = by_end_[n.first + f.next];
      const Span& cs = *nodes_[c].span;
      int64_t end = std::min(cs.end_ns, f.to);
      if (end <= f.from) {  // this child and every later one ended before the window
        f.next = n.count;
        break;
      }
      ++f.next;
      int64_t start = std::max(cs.start_ns, f.from);
      // Still running when later work started: not on the path. Start times in whole milliseconds
      // (many SDKs) make a call seem to end up to 1 ms after the next one started: clipped instead.
      int64_t slack = cs.start_ns % 1'000'000 == 0 ? 1'000'000 : 0;
      if (end > f.cursor + slack || start >= end) continue;
      end = std::min(end, f.cursor);
      if (start >= end) continue;
      found = c;
      found_start = start;
      found_end = end;
      break;
    }
    if (found == ~0u) {
      n.self_path += f.cursor - f.from;
      frames_.pop_back();
      continue;
    }
    n.self_path += f.cursor - found_end;
    f.cursor = found_start;
    frames_.back() = f;
    push(found, found_start, found_end);
  }
}

uint32_t Assembler::dependency_of(uint32_t i, bool& in_trace) const {
  const Node& node = nodes_[i];
  in_trace = node.reached >= 0;
  if (node.span->cls == SpanClass::external)
    return in_trace ? nodes_[static_cast<size_t>(node.reached)].span->service : node.span->target;
  in_trace = true;  // a server span called without a client span: the callee is its service
  return node.span->service;
}

// The route an end-user request is counted under: its server span's route (behind a gateway's
// catch-all, the endpoint it forwarded to), a browser page's path, else the entry span's name.
uint32_t Assembler::entry_route(uint32_t root, uint32_t& service) {
  const Span& s = *nodes_[root].span;
  service = s.service;
  if (s.cls == SpanClass::request) {
    if (!is_catch_all(s.route)) return s.route;
    uint32_t reached = downstream_route(root);
    return reached ? reached : s.route;
  }
  if (s.route && s.route != missing_span_name_) {  // a browser page (is_browser_page, assemble.cpp)
    if (!browser_service_) browser_service_ = strings_.intern("browser");
    service = browser_service_;
    return s.route;
  }
  return s.name;
}

void Assembler::analyze_entry(uint32_t root) {
  walk_critical_path(root);
  Node& entry = nodes_[root];
  uint32_t service = 0;
  uint32_t route = entry_route(root, service);
  uint64_t route_key = (static_cast<uint64_t>(service) << 32) | route;
  RouteAcc& acc = routes_[route_key];
  acc.service = service;
  acc.route = route;
  double request_ms = entry.span->duration_ms();
  entry_ns_ = entry.span->end_ns - entry.span->start_ns;
  acc.latency.add(request_ms);
  acc.requests += 1;
  acc.request_ms += request_ms;
  acc.errors += entry.span->error ? 1 : 0;
  requests_ += 1;
  note_window_edges(root, acc);

  hosts_.clear();
  identities_.clear();
  calls_.clear();
  request_links_.clear();
  last_service_acc_ = nullptr;
  timeout_recorded_ = false;
  pool_waits_seen_ = false;
  nodes_[root].depth = 0;
  stack_.assign(1, root);
  while (!stack_.empty()) {
    uint32_t i = stack_.back();
    stack_.pop_back();
    attribute_node(i, acc);
    const Node& node = nodes_[i];
    if (node.count >= 2) {
      record_repetitions(i, acc);
      record_sequence(i, acc, entry.span->name);
    }
    if (node.span->timeout) record_timeout(i, acc);
    for (uint32_t k = 0; k < node.count; ++k) {
      uint32_t c = child_list_[node.first + k];
      nodes_[c].depth = static_cast<uint16_t>(std::min<int>(node.depth + 1, 65535));
      stack_.push_back(c);
    }
  }
  record_identical(acc);
  record_request_repeats(acc);
  for (uint32_t h : hosts_) {
    externals_[h].requests += 1;
    externals_[h].request_ms += request_ms;
  }
  for (uint64_t key : request_links_) {
    links_[key].requests += 1;
    links_[key].request_ms += request_ms;
  }
}

// A request cut by the window (in flight at its end, say) lost its root span: a stand-in or an
// orphan stands for it. Such requests are told apart at finish from a service that never emits
// a root, by where they lie in the input's time span.
void Assembler::note_window_edges(uint32_t root, RouteAcc& acc) {
  const Span& s = *nodes_[root].span;
  first_start_ns_ = std::min(first_start_ns_, s.start_ns);
  last_end_ns_ = std::max(last_end_ns_, s.end_ns);
  if (!lost_its_root(root)) {
    longest_rooted_ns_ = std::max(longest_rooted_ns_, s.end_ns - s.start_ns);
    return;
  }
  acc.rootless += 1;
  if (acc.rootless_at.size() < kRootlessKept) acc.rootless_at.emplace_back(s.start_ns, s.end_ns);
}

// The request's server span never arrived: a stand-in or a non-server orphan is its entry, and no
// server span hangs right under it. A server span whose caller is outside the input (an
// uninstrumented proxy, a browser) is an entry like any root.
bool Assembler::lost_its_root(uint32_t root) const {
  const Node& n = nodes_[root];
  const Span& s = *n.span;
  if (!missing_span_name_ || s.name != missing_span_name_)
    return s.parent != 0 && s.parent != s.id && s.cls != SpanClass::request;
  for (uint32_t k = 0; k < n.count; ++k)
    if (nodes_[child_list_[n.first + k]].span->cls == SpanClass::request) return false;
  return true;
}

// Rootless requests of the route that start or end within the longest complete request of an
// edge of the input's time span: a root still running at the window's end (or started before it)
// fits there. None when no request of the input is complete (nothing says how long a root runs).
double Assembler::edge_requests(const RouteAcc& acc) const {
  double n = 0;
  for (auto [start, end] : acc.rootless_at)
    if (start - first_start_ns_ < longest_rooted_ns_ || last_end_ns_ - end < longest_rooted_ns_) n += 1;
  return n;
}

// The span's own time on the path, by what it is spent on; the per-statement and per-dependency
// statistics.
void Assembler::attribute_node(uint32_t i, RouteAcc& acc) {
  const Span& s = *nodes_[i].span;
  if (s.service != last_service_acc_id_ || !last_service_acc_) {  // nodes of a service come together
    last_service_acc_ = &acc.services[s.service];
    last_service_acc_id_ = s.service;
  }
  ServiceAcc& svc = *last_service_acc_;
  switch (s.cls) {
    case SpanClass::database:
    case SpanClass::cache:
      return attribute_datastore_call(i, acc, svc);
    case SpanClass::external:
    case SpanClass::request:
      return attribute_call(i, acc, svc);
    case SpanClass::internal:
      return attribute_code(s, ms(nodes_[i].self_path), acc, svc);
  }
}

void Assembler::attribute_code(const Span& s, double own, RouteAcc& acc, ServiceAcc& svc) {
  acc.path.code_ms += own;
  svc.code_ms += own;
  SelfTime& st = acc.self[(static_cast<uint64_t>(s.service) << 32) | s.name];
  st.self_ms += own;
  st.count += 1;
}

// A database or cache call: its own time waits on the datastore; its statement's statistics.
void Assembler::attribute_datastore_call(uint32_t i, RouteAcc& acc, ServiceAcc& svc) {
  const Span& s = *nodes_[i].span;
  double own = ms(nodes_[i].self_path), dur = s.duration_ms();
  bool cache = s.cls == SpanClass::cache;
  (cache ? acc.path.cache_ms : acc.path.database_ms) += own;
  (cache ? svc.cache_ms : svc.database_ms) += own;
  pool_waits_seen_ = pool_waits_seen_ || s.pool_wait;
  if (nodes_[i].counted_elsewhere) return;  // one call, two spans: the other one counts it
  if (s.statement) calls_.emplace_back(repeat_key(1, s.service, s.statement), i);
  StatementAcc& st = statements_[s.statement];
  st.latency.add(dur);
  st.count += 1;
  st.total_ms += dur;
  if (st.last_request != requests_) {
    st.last_request = requests_;
    st.requests += 1;
  }
  st.system = s.target;
  st.cache = cache;
  if (!st.service) st.service = s.service;
  if (s.identity) identities_.emplace_back(s.identity, i);
}

// A client span (its own time: the network to a callee in the trace, else the external dependency)
// or a server span (its own time: code); either is a call to a dependency when it crosses services.
void Assembler::attribute_call(uint32_t i, RouteAcc& acc, ServiceAcc& svc) {
  const Node& node = nodes_[i];
  const Span& s = *node.span;
  double own = ms(node.self_path);
  bool callee_without_client = s.cls == SpanClass::request && node.parent >= 0 &&
                               nodes_[static_cast<size_t>(node.parent)].span->cls != SpanClass::external &&
                               nodes_[static_cast<size_t>(node.parent)].span->service != s.service;
  if (s.cls == SpanClass::external) {
    bool network = node.reached >= 0;
    (network ? acc.path.network_ms : acc.path.external_ms) += own;
    (network ? svc.network_ms : svc.external_ms) += own;
    if (network) record_link(i);
    if (s.call) calls_.emplace_back(repeat_key(2, s.service, s.call), i);
  } else {
    attribute_code(s, own, acc, svc);
  }
  if (s.cls == SpanClass::request && !callee_without_client) return;
  record_dependency_call(i);
}

// A call between two services in the trace: the gap between the client span and the server span
// it reached, and the part of it on the request's critical path.
void Assembler::record_link(uint32_t client) {
  const Node& node = nodes_[client];
  const Span& c = *node.span;
  const Span& server = *nodes_[static_cast<size_t>(node.reached)].span;
  uint64_t key = (static_cast<uint64_t>(c.service) << 32) | server.service;
  LinkAcc& link = links_[key];
  double gap = std::max(0.0, c.duration_ms() - server.duration_ms());
  link.gap.add(gap);
  link.path_ms += ms(node.self_path);
  if (std::find(request_links_.begin(), request_links_.end(), key) == request_links_.end())
    request_links_.push_back(key);
}

// The statistics of the dependency a call reached, and of the endpoint it called there.
void Assembler::record_dependency_call(uint32_t i) {
  const Node& node = nodes_[i];
  const Span& s = *node.span;
  double dur = s.duration_ms();
  bool in_trace = false;
  uint32_t host = dependency_of(i, in_trace);
  uint32_t call = s.cls == SpanClass::external ? s.call : s.route;
  ExternalAcc& ex = externals_[host];
  ex.latency.add(dur);
  ex.count += 1;
  ex.total_ms += dur;
  ex.path_ms += ms(node.path);
  ex.in_trace = ex.in_trace || in_trace;
  ex.errors += s.error ? 1 : 0;
  ex.timeouts += s.timeout ? 1 : 0;
  ex.server_errors += s.http_status >= 500 ? 1 : 0;
  CallAcc& ca = ex.calls[call];
  ca.latency.add(dur);
  ca.count += 1;
  ca.total_ms += dur;
  if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) hosts_.push_back(host);
}

// A span that ended by a timeout: the budget was consumed by the deepest span below it that stayed
// on the critical path for most of its time (the proxy gave up; the service under it was working).
void Assembler::record_timeout(uint32_t i, RouteAcc& acc) {
  uint32_t locus = i;
  for (;;) {
    const Node& n = nodes_[locus];
    uint32_t best = ~0u;
    for (uint32_t k = 0; k < n.count; ++k) {
      uint32_t c = child_list_[n.first + k];
      if (best == ~0u || nodes_[c].path > nodes_[best].path) best = c;
    }
    if (best == ~0u || 2 * nodes_[best].path < nodes_[i].path || nodes_[i].path <= 0) break;
    locus = best;
  }
  const Span& s = *nodes_[i].span;
  const Span& l = *nodes_[locus].span;
  if (!timeout_recorded_) {  // the topmost span that gave up speaks for the request
    timeout_recorded_ = true;
    uint64_t key = (static_cast<uint64_t>(s.service) * 0x9E3779B97F4A7C15ull) ^ (uint64_t{s.name} << 32) ^
                   (uint64_t{l.service} << 16) ^ l.name;
    Timeout& t = acc.timeouts[key];
    if (t.service.empty()) {
      t.service = strings_.str(s.service);
      t.span = strings_.str(s.name);
      t.locus_service = strings_.str(l.service);
      t.locus_span = strings_.str(l.name);
      if (l.cls == SpanClass::database || l.cls == SpanClass::cache)
        t.locus_statement = strings_.str(l.statement);
    }
    t.count += 1;
    t.ms += s.duration_ms();
  }
  if (s.cls == SpanClass::external) {
    bool in_trace = false;
    externals_[dependency_of(i, in_trace)].consumed_by[(uint64_t{l.service} << 32) | l.name] += 1;
  }
}

}  // namespace cp::traces
