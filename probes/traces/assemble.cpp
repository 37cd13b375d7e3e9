// Spans in, one tree per trace out: interning, the eviction of complete traces, parents (Zipkin
// shared spans, orphans under stand-ins) and children; each entry span is then analysed as a request.
#include "probes/traces/assemble.hpp"

#include <algorithm>
#include <optional>

#include "probes/traces/conventions.hpp"
#include "probes/traces/normalize.hpp"
#include "util/format.hpp"
#include "util/self.hpp"
#include "util/memory.hpp"
#include "util/sql.hpp"

namespace cp::traces {

namespace {

bool is_messaging(const RawSpan& s) {
  return !s.messaging_system.empty() || !s.messaging_destination.empty();
}

// A messaging receive (polling the broker) waits on the broker, whatever its kind says.
bool is_receive(const RawSpan& s) {
  return !s.messaging_system.empty() && (s.messaging_operation == "receive" || s.name == "receive");
}

SpanClass classify(const RawSpan& s) {
  if (is_receive(s)) return SpanClass::external;
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
// repeated identical calls. 0 when the parameters are not in the span: a "$1" or "%s" text without
// bound values, or a text with no value at all.
uint64_t identity_of(std::string_view statement, std::string_view params, bool cache, bool values_known) {
  if (statement.empty() || (!cache && params.empty() && !values_known)) return 0;
  return (hash_bytes(statement) ^ (hash_bytes(params, 0x1f) * 0x9E3779B97F4A7C15ull)) | 1;
}

// A dependency's name: host:port from the URL, else peer.service, else the peer's address and
// port, else the remote endpoint's service; never the span's name or method. A message broker is
// named by its system and destination ("rabbitmq orders").
std::string dependency_name(const RawSpan& s, std::string_view url_host) {
  std::string name;
  if (is_messaging(s)) {
    name = s.messaging_system.empty() ? std::string("broker") : std::string(s.messaging_system);
    if (!s.messaging_destination.empty()) (name += ' ') += s.messaging_destination;
    return name;
  }
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

bool is_http_method(std::string_view name) {
  for (std::string_view m : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "HTTP GET",
                             "HTTP POST", "HTTP PUT", "HTTP DELETE", "HTTP PATCH"})
    if (name == m) return true;
  return false;
}

// The route a server span serves: http.route; else its path templated (url.path / http.target:
// ids become {id}) when its name says no more than the method; else its name, templated when it
// is a path ("GET /orders/17").
std::string_view route_name(const RawSpan& raw, std::string& scratch) {
  if (!raw.http_route.empty()) return raw.http_route;
  std::string_view path = raw.target_path.empty() ? raw.url : raw.target_path;
  if (!path.empty() && (raw.name.empty() || is_http_method(raw.name))) return scratch = path_template(path);
  std::string_view name = raw.name;
  size_t slash = name.find('/');
  if (slash == std::string_view::npos || (slash > 0 && name[slash - 1] != ' ') ||
      name.find("://") != std::string_view::npos)
    return name;
  scratch.assign(name.substr(0, slash));
  return scratch += path_template(name.substr(slash));
}

// A root that is a browser page (document load, a page view with the page's URL): named by it.
bool is_browser_page(const RawSpan& raw) {
  return raw.kind != SpanKind::server && raw.parent == 0 && !raw.url.empty() &&
         (raw.service.empty() || raw.service.rfind("unknown_service", 0) == 0);
}

}  // namespace

uint32_t Assembler::statement_id(const RawSpan& span, bool cache) {
  last_values_known_ = false;
  std::string_view raw = span.db_statement, name = span.name;
  if (cache) {  // a cache command: the verb identifies it ("GET", "HGETALL"); keys are data
    std::string_view text = raw.empty() ? name : raw;
    return strings_.intern(text.substr(0, text.find(' ')));
  }
  if (raw.empty()) return name.empty() ? 0 : strings_.intern(name);  // no statement (Zipkin): the span's name
  if (!span.db_collection.empty() && (raw.front() == '{' || raw.front() == '[')) {
    // A document statement names no collection: "users {\"_id\":?}" (MongoDB).
    std::string text(span.db_collection);
    (text += ' ') += normalize_statement_view(raw, &last_values_known_);
    return intern_statement(text);
  }
  // Parameterized texts repeat verbatim, and normalizing a normalized text changes nothing: an
  // exact match with a known statement is the cheapest lookup.
  uint32_t known = strings_.find(raw);
  if (known != Interner::kEmpty && known < is_statement_.size() && is_statement_[known]) return known;
  std::string_view normalized = normalize_statement_view(raw, &last_values_known_);
  // A normalized text seen before was judged then: credential checks run once per distinct text.
  uint32_t seen = strings_.find(normalized);
  if (seen != Interner::kEmpty && seen < is_statement_.size() && is_statement_[seen]) return seen;
  std::optional<std::string> redacted = credential_redaction(normalized);  // ALTER ROLE … PASSWORD
  return intern_statement(redacted ? std::string_view(*redacted) : normalized);
}

uint32_t Assembler::intern_statement(std::string_view text) {
  uint32_t id = strings_.intern(text);
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
  name_what_it_does(s, raw);
  // Only an entry span's user agent says who sent the request; most spans carry none.
  if (!raw.user_agent.empty() && (raw.kind == SpanKind::server || raw.parent == 0) &&
      is_own_user_agent(raw.user_agent)) {
    s.by_chokepoint = true;
    own_spans_ += 1;
  }
  if (raw.host.empty())
    hostless_ += 1;
  else if (raw.host != last_host_)  // spans of one resource arrive together
    note_host(raw.host);
  if (s.service != last_process_service_ &&
      (!raw.process_pid.empty() || !raw.host.empty() || !raw.container_id.empty()))
    note_process(s.service, raw);
  if (spans_.size() == spans_.capacity() && spans_.size() >= (1u << 14)) {
    // A large input: reserve for the most spans pending between two evictions at once (address
    // space; pages are touched as spans arrive) rather than moving them to ever bigger blocks.
    spans_.reserve(std::max(2 * pending_limit_, 2 * spans_.size()));
    advise_huge_pages(spans_.data(), spans_.capacity() * sizeof(Span));
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

// The first process a service's spans name (resource attributes).
void Assembler::note_process(uint32_t service, const RawSpan& raw) {
  last_process_service_ = service;
  for (const auto& p : processes_)
    if (p.service == strings_.str(service)) return;
  processes_.push_back({std::string(strings_.str(service)), std::string(raw.host),
                        std::string(raw.process_pid), std::string(raw.container_id)});
}

// What the span is about, by its class: the route it serves, the statement it runs on which
// datastore, or the call it makes to which dependency.
void Assembler::name_what_it_does(Span& s, const RawSpan& raw) {
  switch (s.cls) {
    case SpanClass::request:
      s.route = strings_.intern(route_name(raw, call_scratch_));
      break;
    case SpanClass::database:
    case SpanClass::cache: {
      bool cache = s.cls == SpanClass::cache;
      // A wait for a pooled connection is database time, but no statement (no N+1 of "connect").
      s.pool_wait = is_pool_wait(raw.name);
      s.statement = s.pool_wait ? 0 : statement_id(raw, cache);
      s.statement_from_name = raw.db_statement.empty() && !cache && !s.pool_wait;
      s.target = last_system_.intern(strings_, datastore_name(raw));
      s.identity = identity_of(raw.db_statement, raw.db_params, cache, !cache && last_values_known_);
      note_code_location(s.service, s.statement, raw);
      break;
    }
    case SpanClass::external:
      name_call(s, raw);
      break;
    case SpanClass::internal:
      if (is_browser_page(raw)) s.route = strings_.intern("page " + path_template(raw.url));
      break;
  }
}

// An external call: the dependency ("host:port", peer service, "rabbitmq orders") and the endpoint
// ("METHOD host/path-template", "publish orders", "grpc Service/Method"), with the URL's shape apart
// from ids (calls that differ only by ids are one N+1 API call).
void Assembler::name_call(Span& s, const RawSpan& raw) {
  std::string& call = call_scratch_;
  call.clear();
  std::string host;
  std::string_view url = raw.url.empty() ? raw.target_path : raw.url;
  if (is_messaging(raw)) {
    host = dependency_name(raw, {});
    std::string_view op =
        raw.messaging_operation.empty() ? (is_receive(raw) ? "receive" : "publish") : raw.messaging_operation;
    ((call += op) += ' ') += host;
  } else {
    if (!raw.http_method.empty()) (call += raw.http_method) += ' ';
    std::string_view url_host = raw.url.empty() ? std::string_view() : append_url_template(raw.url, call);
    host = dependency_name(raw, url_host);
    if (host.empty()) host = "unnamed dependency of " + std::string(raw.service);
    if (raw.url.empty()) {
      call += host;
      if (!raw.rpc_method.empty())
        (call += '/') += raw.rpc_method;
      else if (!raw.target_path.empty())
        call += path_template(raw.target_path);
    }
    if (!url.empty()) s.identity = hash_bytes(url) | 1;  // the call as sent: equal URLs, equal calls
  }
  s.target = strings_.intern(host);
  s.call = strings_.intern(call);
  // The endpoint (path template) and the query apart from ids: calls sharing it differ only by ids.
  if (!url.empty()) s.variant = (uint64_t{s.call} << 32 | 1) ^ query_shape_hash(url);
  note_code_location(s.service, s.call, raw);
}

void Assembler::note_host(std::string_view host) {
  last_host_.assign(host);
  uint32_t id = strings_.intern(host);
  if (std::find(host_names_.begin(), host_names_.end(), id) == host_names_.end()) host_names_.push_back(id);
}

bool Assembler::sent_by_chokepoint() const {
  return std::any_of(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.span->by_chokepoint; });
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
  // chokepoint's own requests (its --http probe through an instrumented dependency) are never
  // part of the system's diagnosis: no route, no pattern, no attribution; counted in a note.
  if (own_spans_ > 0 && sent_by_chokepoint()) {
    own_requests_ += 1;
    return;
  }
  traces_ += 1;
  stand_ins_.clear();
  link_parents();
  group_orphans();
  build_children();
  if (hang_outliving_spans()) build_children(false);
  if (adopt_covered_spans()) build_children(false);
  join_split_statements();
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
    if (j - i > 1) resolve_shared_id(i, j);
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
  skip_untimed_parents();
}

// Spans ids_[i, j) share one id: a Zipkin client and server half are joined, the rest are duplicates.
void Assembler::resolve_shared_id(size_t i, size_t j) {
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

// Untimed parents are transparent: their children hang under the nearest timed ancestor.
void Assembler::skip_untimed_parents() {
  size_t n = nodes_.size();
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
    place_orphans(i, j);
    i = j;
  }
  join_rootless();
}

// Orphans orphans_of_[i, j) of one missing parent: under a stand-in for it, itself under the root
// running when they started, if any.
void Assembler::place_orphans(size_t i, size_t j) {
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
    return;
  }
  Node node{&stand_ins_.emplace_back(stand_in)};
  node.parent = host;
  auto index = static_cast<int32_t>(nodes_.size());
  nodes_.push_back(node);
  if (host < 0) rootless_.push_back(static_cast<uint32_t>(index));
  for (size_t k = i; k < j; ++k) nodes_[orphans_of_[k].second].parent = index;
}

// Several pieces of one trace with no root above them are parts of one request whose root was
// lost: one stand-in holds them all.
void Assembler::join_rootless() {
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

void Assembler::build_children(bool count_skew) {
  size_t n = nodes_.size();
  fill_.assign(n + 1, 0);
  for (auto& node : nodes_) {
    if (!node.in_tree || node.parent < 0) continue;
    ++fill_[static_cast<size_t>(node.parent) + 1];
    const Span& p = *nodes_[static_cast<size_t>(node.parent)].span;
    if (count_skew && (node.span->start_ns < p.start_ns || node.span->end_ns > p.end_ns)) skewed_ += 1;
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
    node.reached = -1;
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

}  // namespace cp::traces
