#include "probes/traces/assemble.hpp"

#include <algorithm>
#include <optional>

#include "probes/traces/conventions.hpp"
#include "probes/traces/normalize.hpp"
#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::traces {

namespace {

Latency latency_of(const Histogram& h) {
  auto r = [](double v) { return round_to(v, 3); };
  return {static_cast<double>(h.count()),
          r(h.mean()),
          r(h.percentile(50)),
          r(h.percentile(95)),
          r(h.percentile(99)),
          r(h.max())};
}

// Bounds to the nanosecond: the histogram's buckets are 1 % wide, far wider than that.
std::vector<LatencyBin> histogram_of(const Histogram& h) {
  std::vector<LatencyBin> out;
  for (const auto& b : h.bins())
    out.push_back({round_to(b.lower, 6), round_to(b.upper, 6), static_cast<double>(b.count)});
  return out;
}

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

SpanClass classify(const RawSpan& s) {
  bool server = s.kind == SpanKind::server || s.kind == SpanKind::consumer;
  if (server) return SpanClass::request;
  switch (datastore_of(s)) {
    case Datastore::cache:
      return SpanClass::cache;
    case Datastore::database:
      return SpanClass::database;
    case Datastore::none:
      break;
  }
  if (s.kind == SpanKind::client || s.kind == SpanKind::producer) return SpanClass::external;
  return SpanClass::internal;
}

// Statement and parameters as sent (or the cache command with its key): equal hashes are
// repeated identical calls. 0 when the parameters are not in the span (a "$1" text without values).
uint64_t identity_of(std::string_view statement, std::string_view params, bool cache,
                     bool normalized_differs) {
  if (statement.empty() || (!cache && params.empty() && !normalized_differs)) return 0;
  uint64_t h = 1469598103934665603ull;
  for (std::string_view part : {statement, std::string_view("\x1f"), params})
    for (char c : part) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h | 1;
}

// A dependency's name: host:port from the URL, else peer.service, else the peer's address and
// port, else the remote endpoint's service; never the span's name or method.
std::string dependency_name(const RawSpan& s, std::string_view url_host) {
  std::string name;
  if (!url_host.empty()) {
    name = url_host;
  } else if (!s.peer_service_or_remote().empty()) {
    return std::string(s.peer_service_or_remote());
  } else if (!s.peer.empty()) {
    name = s.peer;
    if (s.peer_port && name.find(':') == std::string::npos) name += ":" + std::to_string(s.peer_port);
  }
  return name;
}

}  // namespace

uint32_t Assembler::statement_id(std::string_view raw, bool cache, std::string_view name) {
  last_had_literals_ = false;
  if (cache) {  // a cache command: the verb identifies it ("GET", "HGETALL"); keys are data
    std::string_view text = raw.empty() ? name : raw;
    return strings_.intern(text.substr(0, text.find(' ')));
  }
  if (raw.empty()) return name.empty() ? 0 : strings_.intern(name);  // no statement (Zipkin): the span's name
  // Parameterized texts repeat verbatim, and normalizing a normalized text changes nothing: an
  // exact match with a known statement is the cheapest lookup.
  uint32_t known = strings_.find(raw);
  if (known != Interner::kEmpty && known < is_statement_.size() && is_statement_[known]) return known;
  bool literals = false;
  std::string_view normalized = normalize_statement_view(raw, &literals);
  last_had_literals_ = literals;
  // A normalized text seen before was judged then: credential checks run once per distinct text.
  uint32_t seen = strings_.find(normalized);
  if (seen != Interner::kEmpty && seen < is_statement_.size() && is_statement_[seen]) return seen;
  std::optional<std::string> redacted = credential_redaction(normalized);  // ALTER ROLE … PASSWORD
  uint32_t id = strings_.intern(redacted ? std::string_view(*redacted) : normalized);
  if (id >= is_statement_.size()) is_statement_.resize(strings_.size(), false);
  is_statement_[id] = true;
  return id;
}

void Assembler::add(const RawSpan& raw, uint64_t offset_base) {
  Span s;
  s.trace = raw.trace;
  s.id = raw.id;
  s.parent = raw.parent;
  s.timed = raw.timed;
  s.start_ns = raw.start_ns;
  s.end_ns = std::max(raw.end_ns, raw.start_ns);
  s.kind = raw.kind;
  s.cls = classify(raw);
  s.name = strings_.intern(raw.name);
  s.service = last_service_.intern(strings_, raw.service);
  s.error = raw.error || raw.http_status >= 500;
  s.timeout = raw.timeout || raw.http_status == 504 || raw.http_status == 408;
  s.http_status = static_cast<uint16_t>(std::clamp(raw.http_status, 0, 999));
  switch (s.cls) {
    case SpanClass::request:
      s.route = strings_.intern(raw.http_route.empty() ? raw.name : raw.http_route);
      break;
    case SpanClass::database:
    case SpanClass::cache: {
      bool cache = s.cls == SpanClass::cache;
      s.statement = statement_id(raw.db_statement, cache, raw.name);
      s.target = last_system_.intern(strings_, datastore_name(raw));
      s.identity = identity_of(raw.db_statement, raw.db_params, cache, !cache && last_had_literals_);
      note_code_location(s.service, s.statement, raw);
      break;
    }
    case SpanClass::external: {
      std::string& call = call_scratch_;  // "METHOD host/path-template"
      call.clear();
      if (!raw.http_method.empty()) (call += raw.http_method) += ' ';
      std::string_view url_host;
      if (!raw.url.empty()) url_host = append_url_template(raw.url, call);
      std::string host = dependency_name(raw, url_host);
      if (host.empty()) host = "unnamed dependency of " + std::string(raw.service);
      if (raw.url.empty()) (call += host) += raw.target_path;
      s.target = strings_.intern(host);
      s.call = strings_.intern(call);
      note_code_location(s.service, s.call, raw);
      break;
    }
    case SpanClass::internal:
      break;
  }
  if (spans_.size() == spans_.capacity() && spans_.size() >= (1u << 14)) {
    // A large input: reserve for the most spans pending between two evictions at once (address
    // space; pages are touched as spans arrive) rather than moving them to ever bigger blocks.
    spans_.reserve(std::max(2 * pending_limit_, 2 * spans_.size()));
  }
  spans_.push_back(s);
  if (!last_seen_slot_ || !(s.trace == last_trace_)) {
    auto [pending, inserted] = last_seen_.try_emplace(s.trace);
    if (inserted) pending->seq = next_seq_++;
    last_seen_slot_ = pending;
    last_trace_ = s.trace;
  }
  uint64_t offset = raw.offset + offset_base;
  last_seen_slot_->offset = std::max(last_seen_slot_->offset, offset);
  if (spans_.size() >= pending_limit_) evict_complete_traces(offset);
}

void Assembler::note_code_location(uint32_t service, uint32_t key, const RawSpan& raw) {
  if (raw.code_filepath.empty() && raw.code_function.empty()) return;  // the common case: no code.*
  uint64_t at = static_cast<uint64_t>(service) << 32 | key;
  if (!key || code_at_.count(at)) return;
  code_at_[at] = {strings_.intern(raw.code_filepath), strings_.intern(raw.code_function), raw.code_lineno};
}

void Assembler::evict_complete_traces(uint64_t now) {
  if (now > horizon_bytes_) {
    uint64_t cutoff = now - horizon_bytes_;
    // Complete spans are analysed where they stand, then the pending ones close up.
    sort_keys_.clear();
    dropped_.assign(spans_.size(), 0);
    TraceId last{~0ull, ~0ull};
    const Pending* pending = nullptr;
    for (size_t i = 0; i < spans_.size(); ++i) {
      const Span& s = spans_[i];
      if (!(s.trace == last)) {
        last = s.trace;
        pending = last_seen_.find(s.trace);
      }
      if (pending->offset < cutoff) {
        sort_keys_.push_back({pending->seq, static_cast<uint32_t>(i), s.start_ns});
        dropped_[i] = 1;
      }
    }
    if (!sort_keys_.empty()) {
      analyze_keys();
      size_t kept = 0;
      for (size_t i = 0; i < spans_.size(); ++i) {
        if (!dropped_[i]) {
          spans_[kept++] = spans_[i];
        } else if (i == 0 || !(spans_[i].trace == spans_[i - 1].trace) || !dropped_[i - 1]) {
          last_seen_.erase(spans_[i].trace);  // spans of a trace arrive together, mostly
        }
      }
      last_seen_slot_ = nullptr;
      total_spans_ += spans_.size() - kept;
      spans_.resize(kept);
    }
  }
  // Nothing (or little) was complete: wait for twice as many spans before looking again.
  pending_limit_ = std::max<size_t>(1u << 18, spans_.size() * 2);
}

void Assembler::analyze_keys() {
  // Sort small keys, not 96-byte spans, then gather each trace's spans in start order.
  std::vector<SortKey>& keys = sort_keys_;
  std::sort(keys.begin(), keys.end(), [](const SortKey& a, const SortKey& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.start < b.start;
  });
  for (size_t i = 0; i < keys.size();) {
    size_t j = i + 1;
    while (j < keys.size() && keys[j].seq == keys[i].seq) ++j;
    nodes_.clear();
    for (size_t k = i; k < j; ++k) nodes_.push_back(Node{&spans_[keys[k].index]});
    analyze_trace();
    i = j;
  }
}

// ---- one tree per trace ------------------------------------------------------------------------

void Assembler::analyze_trace() {
  traces_ += 1;
  stand_ins_.clear();
  link_parents();
  group_orphans();
  build_children();
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].in_tree && nodes_[i].parent < 0) analyze_entry(i);
}

// Parents by id. Zipkin's shared spans (a client and a server half with one id) become two nodes,
// the server under the client; other duplicates and untimed spans stay out of the tree.
void Assembler::link_parents() {
  size_t n = nodes_.size();
  ids_.clear();
  for (uint32_t i = 0; i < n; ++i) ids_.emplace_back(nodes_[i].span->id, i);
  std::sort(ids_.begin(), ids_.end());
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && ids_[j].first == ids_[i].first) ++j;
    if (j - i > 1) {
      int32_t client = -1, server = -1;
      for (size_t k = i; k < j; ++k) {
        SpanKind kind = nodes_[ids_[k].second].span->kind;
        bool is_client = kind == SpanKind::client || kind == SpanKind::producer;
        bool is_server = kind == SpanKind::server || kind == SpanKind::consumer;
        if (is_client && client < 0)
          client = static_cast<int32_t>(ids_[k].second);
        else if (is_server && server < 0)
          server = static_cast<int32_t>(ids_[k].second);
      }
      bool shared = client >= 0 && server >= 0;
      if (shared) {
        nodes_[static_cast<size_t>(client)].shared_server = server;
        nodes_[static_cast<size_t>(server)].shared_client = client;
        shared_merged_ += 1;
      }
      // The first of the run stands for the id (the client half when shared); the rest are duplicates.
      if (shared && ids_[i].second != static_cast<uint32_t>(client))
        std::swap(ids_[i], *std::find_if(ids_.begin() + static_cast<std::ptrdiff_t>(i),
                                         ids_.begin() + static_cast<std::ptrdiff_t>(j),
                                         [&](auto& e) { return e.second == static_cast<uint32_t>(client); }));
      for (size_t k = i + 1; k < j; ++k) {
        if (shared && ids_[k].second == static_cast<uint32_t>(server)) continue;
        nodes_[ids_[k].second].in_tree = false;
        nodes_[ids_[k].second].duplicate = true;
        duplicates_ += 1;
      }
    }
    i = j;
  }
  orphans_of_.clear();
  for (uint32_t i = 0; i < n; ++i)
    if (!nodes_[i].duplicate) nodes_[i].parent = resolve_parent(i);
  for (auto& node : nodes_) {
    if (!node.span->timed && node.in_tree) {
      node.in_tree = false;
      untimed_ += 1;
    }
  }
  // An untimed orphan is no orphan of the tree: its timed children are placed below.
  std::erase_if(orphans_of_, [&](const auto& o) { return !nodes_[o.second].in_tree; });
  // Untimed parents are transparent: their children hang under the nearest timed ancestor.
  for (uint32_t i = 0; i < n; ++i) {
    Node& node = nodes_[i];
    if (!node.in_tree || node.parent < 0) continue;
    int32_t p = node.parent;
    // Bounded: malformed input can make parent ids a cycle.
    for (size_t steps = 0; p >= 0 && !nodes_[static_cast<size_t>(p)].in_tree; ++steps) {
      if (steps > n) {
        p = -1;
        break;
      }
      const Node& up = nodes_[static_cast<size_t>(p)];
      if (up.parent >= 0) {
        p = up.parent;
        continue;
      }
      // The chain ends at an untimed span: group under it as under a missing parent.
      orphans_of_.emplace_back(up.span->parent ? up.span->parent : up.span->id, i);
      p = -1;
    }
    node.parent = p;
  }
}

// The parent's node, or -1 for a root; an orphan is queued under its missing parent's id.
int32_t Assembler::resolve_parent(uint32_t child) {
  const Span& s = *nodes_[child].span;
  uint64_t want = s.parent == s.id ? 0 : s.parent;
  // The server half of a shared span names the client's parent; it hangs under its client half.
  if (nodes_[child].shared_client >= 0) return nodes_[child].shared_client;
  if (!want) return -1;
  auto it = std::lower_bound(ids_.begin(), ids_.end(), std::make_pair(want, 0u));
  if (it == ids_.end() || it->first != want) {
    orphans_of_.emplace_back(want, child);
    return -1;
  }
  uint32_t parent = it->second;
  int32_t server = nodes_[parent].shared_server;
  if (server >= 0) {
    // A child of a shared id is the server's, unless it runs in the client's service only.
    const Span& client_span = *nodes_[parent].span;
    const Span& server_span = *nodes_[static_cast<size_t>(server)].span;
    bool client_side = s.service == client_span.service && s.service != server_span.service;
    if (!client_side) return server;
  }
  return static_cast<int32_t>(parent);
}

// Orphans naming the same missing parent are siblings: they are grouped under a stand-in for it,
// placed under the trace's root that was running when they started (or a root of its own).
void Assembler::group_orphans() {
  if (orphans_of_.empty()) return;
  std::sort(orphans_of_.begin(), orphans_of_.end());
  if (!missing_span_name_) missing_span_name_ = strings_.intern("(missing span)");
  for (size_t i = 0; i < orphans_of_.size();) {
    size_t j = i + 1;
    while (j < orphans_of_.size() && orphans_of_[j].first == orphans_of_[i].first) ++j;
    orphans_ += static_cast<double>(j - i);
    orphan_groups_ += 1;
    Span stand_in;
    const Span first = *nodes_[orphans_of_[i].second].span;
    stand_in.trace = first.trace;
    stand_in.id = orphans_of_[i].first;
    stand_in.start_ns = first.start_ns;
    stand_in.end_ns = first.end_ns;
    for (size_t k = i; k < j; ++k) {
      const Span& s = *nodes_[orphans_of_[k].second].span;
      stand_in.start_ns = std::min(stand_in.start_ns, s.start_ns);
      stand_in.end_ns = std::max(stand_in.end_ns, s.end_ns);
    }
    stand_in.name = missing_span_name_;
    stand_in.route = missing_span_name_;
    stand_in.service = first.service;
    stand_in.kind = SpanKind::internal;
    int32_t host = -1;
    for (uint32_t r = 0; r < nodes_.size(); ++r) {
      const Node& root = nodes_[r];
      if (root.in_tree && root.parent < 0 && root.span->parent == 0 &&
          root.span->start_ns <= stand_in.start_ns && stand_in.start_ns < root.span->end_ns) {
        host = static_cast<int32_t>(r);
        break;
      }
    }
    if (host < 0 && j - i == 1) {  // a lone orphan with nothing above it: a root of its own
      rootless_.push_back(orphans_of_[i].second);
      i = j;
      continue;
    }
    Node node{&stand_ins_.emplace_back(stand_in)};
    node.parent = host;
    auto index = static_cast<int32_t>(nodes_.size());
    nodes_.push_back(node);
    if (host < 0) rootless_.push_back(static_cast<uint32_t>(index));
    for (size_t k = i; k < j; ++k) nodes_[orphans_of_[k].second].parent = index;
    i = j;
  }
  // Several pieces of one trace with no root above them are parts of one request whose root was
  // lost: one stand-in holds them all.
  if (rootless_.size() >= 2) {
    Span root = *nodes_[rootless_.front()].span;
    root.parent = 0;
    root.name = root.route = missing_span_name_;
    root.kind = SpanKind::internal;
    root.cls = SpanClass::internal;
    for (uint32_t r : rootless_) {
      root.start_ns = std::min(root.start_ns, nodes_[r].span->start_ns);
      root.end_ns = std::max(root.end_ns, nodes_[r].span->end_ns);
    }
    auto index = static_cast<int32_t>(nodes_.size());
    nodes_.push_back(Node{&stand_ins_.emplace_back(root)});
    for (uint32_t r : rootless_) nodes_[r].parent = index;
  }
  rootless_.clear();
}

void Assembler::build_children() {
  size_t n = nodes_.size();
  fill_.assign(n + 1, 0);
  for (auto& node : nodes_) {
    if (!node.in_tree || node.parent < 0) continue;
    ++fill_[static_cast<size_t>(node.parent) + 1];
    const Span& p = *nodes_[static_cast<size_t>(node.parent)].span;
    if (node.span->start_ns < p.start_ns || node.span->end_ns > p.end_ns) skewed_ += 1;
  }
  uint32_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    nodes_[i].first = offset;
    nodes_[i].count = 0;
    offset += fill_[i + 1];
  }
  child_list_.assign(offset, 0);
  for (uint32_t i = 0; i < n; ++i) {  // spans are in start order (stand-ins last)
    Node& node = nodes_[i];
    if (!node.in_tree || node.parent < 0) continue;
    Node& p = nodes_[static_cast<size_t>(node.parent)];
    child_list_[p.first + p.count++] = i;
  }
  by_end_ = child_list_;
  for (auto& node : nodes_) {
    if (node.count < 2) {
      if (node.count == 1) {
        const Node& c = nodes_[child_list_[node.first]];
        if (c.span->kind == SpanKind::server || c.span->kind == SpanKind::consumer)
          node.reached = static_cast<int32_t>(child_list_[node.first]);
      }
      continue;
    }
    auto kids = child_list_.begin() + node.first;
    auto by_start = [&](uint32_t a, uint32_t b) {
      return std::tie(nodes_[a].span->start_ns, a) < std::tie(nodes_[b].span->start_ns, b);
    };
    if (!std::is_sorted(kids, kids + node.count, by_start)) std::sort(kids, kids + node.count, by_start);
    auto ends = by_end_.begin() + node.first;
    std::sort(ends, ends + node.count, [&](uint32_t a, uint32_t b) {
      return std::tie(nodes_[b].span->end_ns, a) < std::tie(nodes_[a].span->end_ns, b);
    });
    for (uint32_t k = 0; k < node.count; ++k) {
      const Node& c = nodes_[child_list_[node.first + k]];
      if (c.span->kind == SpanKind::server || c.span->kind == SpanKind::consumer) {
        node.reached = static_cast<int32_t>(child_list_[node.first + k]);
        break;
      }
    }
  }
}

// ---- the critical path of one request --------------------------------------------------------

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
      if (end > f.cursor || start >= end) continue;  // still running when later work started
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

void Assembler::analyze_entry(uint32_t root) {
  walk_critical_path(root);
  Node& entry = nodes_[root];
  uint32_t route = entry.span->cls == SpanClass::request ? entry.span->route : entry.span->name;
  uint64_t route_key = (static_cast<uint64_t>(entry.span->service) << 32) | route;
  RouteAcc& acc = routes_[route_key];
  acc.service = entry.span->service;
  acc.route = route;
  double request_ms = entry.span->duration_ms();
  entry_ns_ = entry.span->end_ns - entry.span->start_ns;
  acc.latency.add(request_ms);
  acc.requests += 1;
  acc.request_ms += request_ms;
  acc.errors += entry.span->error ? 1 : 0;
  requests_ += 1;

  hosts_.clear();
  identities_.clear();
  last_service_acc_ = nullptr;
  timeout_recorded_ = false;
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
    for (uint32_t k = 0; k < node.count; ++k) stack_.push_back(child_list_[node.first + k]);
  }
  record_identical(acc);
  for (uint32_t h : hosts_) {
    externals_[h].requests += 1;
    externals_[h].request_ms += request_ms;
  }
}

// The span's own time on the path, by what it is spent on; the per-statement and per-dependency
// statistics.
void Assembler::attribute_node(uint32_t i, RouteAcc& acc) {
  const Node& node = nodes_[i];
  const Span& s = *node.span;
  double own = ms(node.self_path);
  if (s.service != last_service_acc_id_ || !last_service_acc_) {  // nodes of a service come together
    last_service_acc_ = &acc.services[s.service];
    last_service_acc_id_ = s.service;
  }
  ServiceAcc& svc = *last_service_acc_;
  double dur = s.duration_ms();
  switch (s.cls) {
    case SpanClass::database:
    case SpanClass::cache: {
      bool cache = s.cls == SpanClass::cache;
      (cache ? acc.path.cache_ms : acc.path.database_ms) += own;
      (cache ? svc.cache_ms : svc.database_ms) += own;
      StatementAcc& st = statements_[s.statement];
      st.latency.add(dur);
      st.count += 1;
      st.total_ms += dur;
      st.system = s.target;
      st.cache = cache;
      if (!st.service) st.service = s.service;
      if (s.identity) identities_.emplace_back(s.identity, i);
      return;
    }
    case SpanClass::external:
    case SpanClass::request: {
      bool callee_without_client =
          s.cls == SpanClass::request && node.parent >= 0 &&
          nodes_[static_cast<size_t>(node.parent)].span->cls != SpanClass::external &&
          nodes_[static_cast<size_t>(node.parent)].span->service != s.service;
      if (s.cls == SpanClass::external) {
        bool network = node.reached >= 0;
        (network ? acc.path.network_ms : acc.path.external_ms) += own;
        (network ? svc.network_ms : svc.external_ms) += own;
      } else {
        acc.path.code_ms += own;
        svc.code_ms += own;
        SelfTime& st = acc.self[(static_cast<uint64_t>(s.service) << 32) | s.name];
        st.self_ms += own;
        st.count += 1;
      }
      if (s.cls == SpanClass::request && !callee_without_client) return;
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
      return;
    }
    case SpanClass::internal: {
      acc.path.code_ms += own;
      svc.code_ms += own;
      SelfTime& st = acc.self[(static_cast<uint64_t>(s.service) << 32) | s.name];
      st.self_ms += own;
      st.count += 1;
      return;
    }
  }
}

void Assembler::record_pattern(RouteAcc& acc, const Occurrence& p) {
  uint64_t k = (static_cast<uint64_t>(p.key) << 32 | p.parent) * 0x9E3779B97F4A7C15ull;
  k ^= (static_cast<uint64_t>(p.repeats) << 24) ^ (static_cast<uint64_t>(p.concurrency) << 8) ^
       (static_cast<uint64_t>(p.distinct) << 44) ^
       (static_cast<uint64_t>(static_cast<unsigned char>(p.kind[0])) << 56) ^
       static_cast<uint64_t>(static_cast<unsigned char>(p.shape[0]));
  Pattern& into = acc.patterns[k];
  if (into.kind.empty()) {  // strings only for the first occurrence
    into.kind = p.kind;
    into.key = strings_.str(p.key);
    into.repeats = p.repeats;
    into.shape = p.shape;
    into.concurrency = p.concurrency;
    into.distinct = p.distinct;
    into.service = strings_.str(p.service);
    into.target = strings_.str(p.target);
    into.parent = strings_.str(p.parent);
    if (auto code = code_at_.find(static_cast<uint64_t>(p.service) << 32 | p.key); code != code_at_.end()) {
      into.code_filepath = strings_.str(code->second.file);
      into.code_lineno = code->second.line;
      into.code_function = strings_.str(code->second.function);
    }
  }
  into.requests += 1;
  into.total_ms += p.total_ms;
  into.saved_ms += p.saved_ms;
  into.path_ms += p.path_ms;
  into.window_ms += p.window_ms;
}

// Children of one parent making the same database / cache statement or the same external call:
// how many, how long in all, how much of it on the critical path, and how they ran — one after
// another (an N+1), all at once, or at most k at a time (a capped pool).
namespace {

// How calls overlap: the time at least one is running, the most at once, and the level of
// concurrency the most time is spent at (with that time).
struct Overlap {
  int64_t occupied = 0, at_usual = 0;
  int most = 0, usual = 0;
};

Overlap overlap_of(std::vector<std::pair<int64_t, int>>& events, int calls) {
  std::sort(events.begin(), events.end());  // at one instant, ends (-1) before starts
  thread_local std::vector<int64_t> time_at;
  time_at.assign(static_cast<size_t>(calls) + 1, 0);
  Overlap o;
  int level = 0;
  int64_t since = 0;
  for (auto& [at, step] : events) {
    if (level > 0) time_at[static_cast<size_t>(level)] += at - since;
    level += step;
    since = at;
    o.most = std::max(o.most, level);
  }
  for (int l = 1; l <= calls; ++l) {
    o.occupied += time_at[static_cast<size_t>(l)];
    if (time_at[static_cast<size_t>(l)] > o.at_usual) {
      o.at_usual = time_at[static_cast<size_t>(l)];
      o.usual = l;
    }
  }
  return o;
}

}  // namespace

void Assembler::record_repetitions(uint32_t parent, RouteAcc& acc) {
  const Node& p = nodes_[parent];
  keyed_.clear();
  for (uint32_t k = 0; k < p.count; ++k) {
    uint32_t c = child_list_[p.first + k];
    const Span& s = *nodes_[c].span;
    if (s.cls == SpanClass::database || s.cls == SpanClass::cache) {
      if (s.statement) keyed_.emplace_back((uint64_t{1} << 32) | s.statement, c);
    } else if (s.cls == SpanClass::external) {  // by dependency: a fan-out calls it with many URLs
      keyed_.emplace_back((uint64_t{2} << 32) | s.target, c);
    }
  }
  if (keyed_.size() < 2) return;
  std::sort(keyed_.begin(), keyed_.end());
  for (size_t i = 0; i < keyed_.size();) {
    size_t j = i + 1;
    while (j < keyed_.size() && keyed_[j].first == keyed_[i].first) ++j;
    if (j - i < 2) {
      i = j;
      continue;
    }
    Occurrence pat;
    const Span& first = *nodes_[keyed_[i].second].span;
    bool external = first.cls == SpanClass::external;
    pat.kind = external ? "repeated_call" : "n_plus_one";
    pat.key = first.statement;
    pat.repeats = static_cast<int>(j - i);
    pat.service = first.service;
    pat.parent = p.span->name;
    bool in_trace = false;
    pat.target = external ? dependency_of(keyed_[i].second, in_trace) : first.target;
    int64_t window_start = first.start_ns, window_end = first.end_ns, path = 0;
    double total = 0;
    events_.clear();
    distinct_.clear();
    bool identities_known = true;
    for (size_t k = i; k < j; ++k) {
      const Node& c = nodes_[keyed_[k].second];
      total += c.span->duration_ms();
      path += c.path;
      window_start = std::min(window_start, c.span->start_ns);
      window_end = std::max(window_end, c.span->end_ns);
      events_.emplace_back(c.span->start_ns, 1);
      events_.emplace_back(c.span->end_ns, -1);
      distinct_.push_back(external ? c.span->call : c.span->identity);
      identities_known = identities_known && (external || c.span->identity);
    }
    std::sort(distinct_.begin(), distinct_.end());
    pat.distinct = identities_known
                       ? static_cast<int>(std::unique(distinct_.begin(), distinct_.end()) - distinct_.begin())
                       : 0;
    if (external) pat.key = pat.distinct == 1 ? first.call : pat.target;
    Overlap o = overlap_of(events_, pat.repeats);
    // One after another when the durations add up to about the time they occupy (start times may be
    // whole milliseconds while end times are not: calls in a row can seem to overlap a little).
    // Otherwise capped when most of that time is spent at one level of concurrency below the count.
    bool serial = total <= 1.2 * ms(o.occupied) || o.most <= 1;
    bool capped = !serial && o.usual >= 2 && o.usual < pat.repeats && 2 * o.at_usual >= o.occupied;
    pat.concurrency = serial ? 1 : capped ? o.usual : o.most;
    pat.shape = serial ? "serial" : capped ? "capped" : "concurrent";
    pat.total_ms = total;
    pat.path_ms = ms(path);
    pat.window_ms = ms(window_end - window_start);
    record_pattern(acc, pat);
    i = j;
  }
}

// The same statement with the same parameters (or the same cache key) more than once in one
// request: a result the request could keep (memoize, a request-scoped cache).
void Assembler::record_identical(RouteAcc& acc) {
  if (identities_.size() < 2) return;
  std::sort(identities_.begin(), identities_.end());
  for (size_t i = 0; i < identities_.size();) {
    size_t j = i + 1;
    while (j < identities_.size() && identities_[j].first == identities_[i].first) ++j;
    if (j - i >= 2) {
      const Node& first = nodes_[identities_[i].second];
      Occurrence pat;
      pat.kind = "identical";
      pat.key = first.span->statement;
      pat.repeats = static_cast<int>(j - i);
      pat.service = first.span->service;
      pat.target = first.span->target;
      int64_t path = 0, redundant = 0;
      double total = 0;
      for (size_t k = i; k < j; ++k) {
        const Node& c = nodes_[identities_[k].second];
        total += c.span->duration_ms();
        path += c.path;
        if (k > i) redundant += c.path;
      }
      pat.total_ms = total;
      pat.path_ms = ms(path);
      pat.saved_ms = ms(redundant);
      pat.parent =
          first.parent >= 0 ? nodes_[static_cast<size_t>(first.parent)].span->name : first.span->name;
      record_pattern(acc, pat);
    }
    i = j;
  }
}

// Independent external calls one after another under one parent (each starts after the previous
// ended, to another endpoint): if they are independent, running them together saves their
// critical-path time but the longest.
void Assembler::record_sequence(uint32_t parent, RouteAcc& acc, uint32_t entry_name) {
  const Node& p = nodes_[parent];
  struct Run {
    std::vector<uint32_t> calls;
    int64_t path = 0, longest = 0;
    int64_t saved() const { return path - longest; }
  };
  Run best, run;
  auto close_run = [&] {
    if (run.calls.size() >= 2 && (best.calls.size() < 2 || run.saved() > best.saved())) best = run;
    run.calls.clear();
    run.path = run.longest = 0;
  };
  const Span* prev = nullptr;
  for (uint32_t k = 0; k < p.count; ++k) {
    const Node& c = nodes_[child_list_[p.first + k]];
    if (c.span->cls != SpanClass::external) continue;
    // Worth running concurrently: long in itself, or a twentieth of the request.
    int64_t dur = c.span->end_ns - c.span->start_ns;
    bool long_enough = dur >= min_call_ns_ || 20 * dur >= entry_ns_;
    // After the previous one ended (start times may be whole milliseconds: 1 ms of slack).
    bool continues = long_enough && prev && c.span->start_ns + 1'000'000 >= prev->end_ns &&
                     c.span->start_ns - prev->end_ns <= max_gap_ns_ && c.span->call != prev->call;
    if (!continues) close_run();
    if (!long_enough) {
      prev = nullptr;
      continue;
    }
    run.calls.push_back(c.span->call);
    run.path += c.path;
    run.longest = std::max(run.longest, c.path);
    prev = c.span;
  }
  close_run();
  if (best.calls.size() < 2) return;
  Occurrence pat;
  pat.kind = "sequential";
  std::string key;
  for (uint32_t call : best.calls) key += (key.empty() ? "" : " → ") + strings_.str(call);
  pat.key = strings_.intern(key);
  pat.repeats = static_cast<int>(best.calls.size());
  pat.service = p.span->service;
  pat.parent = entry_name;
  pat.total_ms = ms(best.path);
  pat.path_ms = ms(best.path);
  pat.saved_ms = ms(best.saved());
  record_pattern(acc, pat);
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

Snapshot Assembler::finish() {
  sort_keys_.clear();
  for (size_t i = 0; i < spans_.size(); ++i)
    sort_keys_.push_back(
        {last_seen_.find(spans_[i].trace)->seq, static_cast<uint32_t>(i), spans_[i].start_ns});
  analyze_keys();
  total_spans_ += spans_.size();
  spans_.clear();
  spans_.shrink_to_fit();
  last_seen_.clear();
  last_seen_slot_ = nullptr;

  Snapshot snap;
  snap.files = files_;
  snap.spans = static_cast<double>(total_spans_);
  snap.traces = traces_;
  snap.requests = requests_;
  snap.orphans = orphans_;
  snap.skewed = skewed_;
  snap.duplicates = duplicates_;
  snap.untimed = untimed_;
  snap.shared_merged = shared_merged_;
  snap.orphan_groups = orphan_groups_;
  for (auto& [key, acc] : routes_) {
    Route r;
    r.service = strings_.str(acc.service);
    r.route = strings_.str(acc.route);
    r.requests = acc.requests;
    r.errors = acc.errors;
    r.request_ms = round_to(acc.request_ms, 3);
    r.latency = latency_of(acc.latency);
    r.latency_histogram = histogram_of(acc.latency);
    r.database_ms = round_to(acc.path.database_ms, 3);
    r.cache_ms = round_to(acc.path.cache_ms, 3);
    r.external_ms = round_to(acc.path.external_ms, 3);
    r.network_ms = round_to(acc.path.network_ms, 3);
    r.code_ms = round_to(acc.path.code_ms, 3);
    for (auto& [key, st] : acc.self) {
      st.name = strings_.str(static_cast<uint32_t>(key));
      st.service = strings_.str(static_cast<uint32_t>(key >> 32));
      st.self_ms = round_to(st.self_ms, 3);
      r.self_time.push_back(st);
    }
    std::sort(r.self_time.begin(), r.self_time.end(), [](auto& a, auto& b) {
      return std::tie(b.self_ms, a.service, a.name) < std::tie(a.self_ms, b.service, b.name);
    });
    if (r.self_time.size() > 10) r.self_time.resize(10);
    for (auto& [k, p] : acc.patterns) {
      p.total_ms = round_to(p.total_ms, 3);
      p.saved_ms = round_to(p.saved_ms, 3);
      p.path_ms = round_to(p.path_ms, 3);
      p.window_ms = round_to(p.window_ms, 3);
      r.patterns.push_back(p);
    }
    std::sort(r.patterns.begin(), r.patterns.end(), [](auto& a, auto& b) {
      return std::tie(a.kind, a.key, a.repeats, a.shape, a.concurrency, a.parent) <
             std::tie(b.kind, b.key, b.repeats, b.shape, b.concurrency, b.parent);
    });
    for (auto& [service, t] : acc.services) {
      auto r3 = [](double v) { return round_to(v, 3); };
      r.services.push_back({strings_.str(service), r3(t.database_ms), r3(t.cache_ms), r3(t.external_ms),
                            r3(t.network_ms), r3(t.code_ms)});
    }
    auto service_total = [](const ServiceTime& t) {
      return t.database_ms + t.cache_ms + t.external_ms + t.network_ms + t.code_ms;
    };
    std::sort(r.services.begin(), r.services.end(), [&](auto& a, auto& b) {
      return std::make_pair(service_total(b), a.service) < std::make_pair(service_total(a), b.service);
    });
    for (auto& [k, t] : acc.timeouts) {
      t.ms = round_to(t.ms, 3);
      r.timeouts.push_back(t);
    }
    std::sort(r.timeouts.begin(), r.timeouts.end(), [](auto& a, auto& b) {
      return std::tie(b.count, a.service, a.span, a.locus_service, a.locus_span) <
             std::tie(a.count, b.service, b.span, b.locus_service, b.locus_span);
    });
    snap.routes.push_back(std::move(r));
  }
  // Largest first; ties by name, so the report does not depend on the order of a hash map.
  std::sort(snap.routes.begin(), snap.routes.end(), [](auto& a, auto& b) {
    return std::tie(b.request_ms, a.service, a.route) < std::tie(a.request_ms, b.service, b.route);
  });
  for (auto& [id, acc] : statements_) {
    if (!id) continue;
    snap.statements.push_back({strings_.str(id), strings_.str(acc.system), acc.cache, acc.count,
                               round_to(acc.total_ms, 3), latency_of(acc.latency),
                               strings_.str(acc.service)});
  }
  std::sort(snap.statements.begin(), snap.statements.end(),
            [](auto& a, auto& b) { return std::tie(b.total_ms, a.text) < std::tie(a.total_ms, b.text); });
  if (snap.statements.size() > 500) snap.statements.resize(500);
  for (auto& [host, acc] : externals_) {
    External e{strings_.str(host),
               acc.count,
               acc.errors,
               acc.timeouts,
               acc.server_errors,
               round_to(acc.total_ms, 3),
               latency_of(acc.latency),
               acc.requests,
               round_to(acc.request_ms, 3),
               {},
               round_to(acc.path_ms, 3),
               acc.in_trace,
               {}};
    double most = 0;
    for (auto& [key, count] : acc.consumed_by)
      if (count > most || (count == most && e.consumed_by > strings_.str(static_cast<uint32_t>(key >> 32)))) {
        most = count;
        e.consumed_by =
            strings_.str(static_cast<uint32_t>(key >> 32)) + "/" + strings_.str(static_cast<uint32_t>(key));
      }
    for (auto& [call, ca] : acc.calls)
      e.calls.push_back({strings_.str(call), ca.count, round_to(ca.total_ms, 3), latency_of(ca.latency)});
    std::sort(e.calls.begin(), e.calls.end(),
              [](auto& a, auto& b) { return std::tie(b.total_ms, a.call) < std::tie(a.total_ms, b.call); });
    if (e.calls.size() > 10) e.calls.resize(10);
    snap.externals.push_back(std::move(e));
  }
  std::sort(snap.externals.begin(), snap.externals.end(),
            [](auto& a, auto& b) { return std::tie(b.total_ms, a.host) < std::tie(a.total_ms, b.host); });
  if (snap.externals.size() > 200) snap.externals.resize(200);
  return snap;
}

}  // namespace cp::traces
