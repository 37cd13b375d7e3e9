#include "probes/traces/assemble.hpp"

#include <algorithm>
#include <optional>

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

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

SpanClass classify(const RawSpan& s) {
  bool server = s.kind == SpanKind::server || s.kind == SpanKind::consumer;
  if (s.db_system == "redis" || s.db_system == "memcached")
    return server ? SpanClass::request : SpanClass::cache;
  if (!s.db_system.empty() || !s.db_statement.empty())
    return server ? SpanClass::request : SpanClass::database;
  if (server) return SpanClass::request;
  if (s.kind == SpanKind::client || s.kind == SpanKind::producer) return SpanClass::external;
  return SpanClass::internal;
}

}  // namespace

uint32_t Assembler::statement_id(std::string_view raw, bool cache, std::string_view name) {
  if (cache) {  // a cache command: the verb identifies it ("GET", "HGETALL"); keys are data
    std::string_view text = raw.empty() ? name : raw;
    return strings_.intern(text.substr(0, text.find(' ')));
  }
  if (raw.empty()) return 0;
  // Parameterized texts repeat verbatim, and normalizing a normalized text changes nothing: an
  // exact match with a known statement is the cheapest lookup.
  uint32_t known = strings_.find(raw);
  if (known != Interner::kEmpty && known < is_statement_.size() && is_statement_[known]) return known;
  std::string_view normalized = normalize_statement_view(raw);
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
  s.start_ns = raw.start_ns;
  s.end_ns = std::max(raw.end_ns, raw.start_ns);
  s.kind = raw.kind;
  s.cls = classify(raw);
  s.name = strings_.intern(raw.name);
  s.service = last_service_.intern(strings_, raw.service);
  s.error = raw.error || raw.http_status >= 500;
  s.timeout = raw.timeout;
  s.http_status = static_cast<uint16_t>(std::clamp(raw.http_status, 0, 999));
  switch (s.cls) {
    case SpanClass::request:
      s.route = strings_.intern(raw.http_route.empty() ? raw.name : raw.http_route);
      break;
    case SpanClass::database:
    case SpanClass::cache:
      s.statement = statement_id(raw.db_statement, s.cls == SpanClass::cache, raw.name);
      s.target = last_system_.intern(strings_, raw.db_system);
      break;
    case SpanClass::external: {
      std::string& call = call_scratch_;  // "METHOD host/path-template"
      call.clear();
      if (!raw.http_method.empty()) (call += raw.http_method) += ' ';
      std::string_view host;
      if (!raw.url.empty()) {
        host = append_url_template(raw.url, call);
      } else {
        host = raw.peer.empty() ? raw.name : raw.peer;
        (call += host) += raw.target_path;
      }
      if (host.empty()) host = raw.name;
      s.target = strings_.intern(host);
      s.call = strings_.intern(call);
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
  // Sort small keys, not 80-byte spans, then gather each trace's spans in start order.
  std::vector<SortKey>& keys = sort_keys_;
  std::sort(keys.begin(), keys.end(), [](const SortKey& a, const SortKey& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.start < b.start;
  });
  trace_spans_.clear();
  if (keys.size() > trace_spans_.capacity())  // geometric: a fresh block is fresh pages to touch
    trace_spans_.reserve(std::max(keys.size(), 2 * trace_spans_.capacity()));
  for (const auto& k : keys) trace_spans_.push_back(spans_[k.index]);
  for (size_t i = 0; i < trace_spans_.size();) {
    size_t j = i + 1;
    while (j < trace_spans_.size() && trace_spans_[j].trace == trace_spans_[i].trace) ++j;
    analyze_trace(i, j);
    i = j;
  }
  trace_spans_.clear();
}

void Assembler::record_pattern(RouteAcc& acc, const char* kind, uint32_t key, int repeats, double total_ms,
                               double saved, uint32_t parent) {
  uint64_t k = (static_cast<uint64_t>(key) << 24) ^ (static_cast<uint64_t>(repeats) << 4) ^
               static_cast<uint64_t>(kind[0]);
  Pattern& p = acc.patterns[k];
  if (p.kind.empty()) {
    p.kind = kind;
    p.key = strings_.str(key);
    p.repeats = repeats;
    p.parent = strings_.str(parent);
  }
  p.requests += 1;
  p.total_ms += total_ms;
  p.saved_ms += saved;
}

void Assembler::analyze_request(size_t root_local) {
  const Span& root = trace_spans_[base_ + root_local];
  uint64_t route_key = (static_cast<uint64_t>(root.service) << 32) | root.route;
  RouteAcc& acc = routes_[route_key];
  acc.service = root.service;
  acc.route = root.route;
  double request_ms = root.duration_ms();
  acc.latency.add(request_ms);
  acc.requests += 1;
  acc.request_ms += request_ms;
  acc.errors += root.error ? 1 : 0;
  requests_ += 1;

  // Per request: the most repetitions of a statement / call under one parent, with their time.
  statement_max_.clear();
  call_max_.clear();
  hosts_.clear();
  struct Run {
    std::vector<uint32_t> calls;
    double total = 0, longest = 0;
    double saved() const { return total - longest; }
  };
  Run best, run;
  auto close_run = [&] {
    if (run.calls.size() >= 2 && (best.calls.size() < 2 || run.saved() > best.saved())) best = run;
    run.calls.clear();
    run.total = run.longest = 0;
  };

  stack_.assign(1, static_cast<uint32_t>(root_local));
  while (!stack_.empty()) {
    uint32_t p_local = stack_.back();
    stack_.pop_back();
    const Span& p = trace_spans_[base_ + p_local];
    int64_t covered = 0, cover_start = 0, cover_end = 0;
    bool open = false;
    counts_.clear();
    call_counts_.clear();
    const Span* prev_external = nullptr;

    for (uint32_t ci = child_offset_[p_local]; ci < child_offset_[p_local + 1]; ++ci) {
      uint32_t c_local = child_list_[ci];
      const Span& c = trace_spans_[base_ + c_local];
      int64_t s = std::max(c.start_ns, p.start_ns), e = std::min(c.end_ns, p.end_ns);
      if (e > s) {  // union of the children's clipped intervals, in start order
        if (open && s <= cover_end) {
          cover_end = std::max(cover_end, e);
        } else {
          if (open) covered += cover_end - cover_start;
          cover_start = s;
          cover_end = e;
          open = true;
        }
      }
      double clipped = e > s ? ms(e - s) : 0;
      double dur = c.duration_ms();
      switch (c.cls) {
        case SpanClass::database:
        case SpanClass::cache: {
          (c.cls == SpanClass::database ? acc.database_ms : acc.cache_ms) += clipped;
          StatementAcc& st = statements_[c.statement];
          st.latency.add(dur);
          st.count += 1;
          st.total_ms += dur;
          st.system = c.target;
          st.cache = c.cls == SpanClass::cache;
          if (c.statement) counts_.add(c.statement, dur);
          break;
        }
        case SpanClass::request:  // a server span right under ours: a call we did not see the client side of
        case SpanClass::external: {
          acc.external_ms += clipped;
          uint32_t host = c.cls == SpanClass::external ? c.target : c.service;
          uint32_t call = c.cls == SpanClass::external ? c.call : c.route;
          ExternalAcc& ex = externals_[host];
          ex.latency.add(dur);
          ex.count += 1;
          ex.total_ms += dur;
          ex.errors += c.error ? 1 : 0;
          ex.timeouts += c.timeout ? 1 : 0;
          ex.server_errors += c.http_status >= 500 ? 1 : 0;
          CallAcc& ca = ex.calls[call];
          ca.latency.add(dur);
          ca.count += 1;
          ca.total_ms += dur;
          if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) hosts_.push_back(host);
          call_counts_.add(call, dur);
          // Sequential, independent calls: each starts after the previous ended, to another endpoint.
          bool long_enough = c.end_ns - c.start_ns >= min_call_ns_;
          bool continues = long_enough && prev_external && c.start_ns >= prev_external->end_ns &&
                           c.start_ns - prev_external->end_ns <= max_gap_ns_ && call != prev_external->call;
          if (!continues) close_run();
          if (!long_enough) {
            prev_external = nullptr;
            break;
          }
          run.calls.push_back(call);
          run.total += dur;
          run.longest = std::max(run.longest, dur);
          prev_external = &c;
          break;
        }
        case SpanClass::internal:
          stack_.push_back(c_local);
          break;
      }
    }
    if (open) covered += cover_end - cover_start;
    close_run();
    double self = std::max(0.0, ms(p.end_ns - p.start_ns - covered));
    acc.code_ms += self;
    SelfTime& st = acc.self[p.name];
    st.self_ms += self;
    st.count += 1;
    statement_max_.keep_max(counts_, p.name);
    call_max_.keep_max(call_counts_, p.name);
  }
  for (const auto& m : statement_max_.entries)
    if (m.count >= 2) record_pattern(acc, "n_plus_one", m.key, m.count, m.ms, 0, m.parent);
  for (const auto& m : call_max_.entries)
    if (m.count >= 2) record_pattern(acc, "repeated_call", m.key, m.count, m.ms, 0, m.parent);
  if (best.calls.size() >= 2) {
    std::string key;
    for (uint32_t call : best.calls) key += (key.empty() ? "" : " → ") + strings_.str(call);
    record_pattern(acc, "sequential", strings_.intern(key), static_cast<int>(best.calls.size()), best.total,
                   best.saved(), root.name);
  }
  for (uint32_t h : hosts_) {
    externals_[h].requests += 1;
    externals_[h].request_ms += request_ms;
  }
}

void Assembler::analyze_trace(size_t begin, size_t end) {
  base_ = begin;
  size_t n = end - begin;
  traces_ += 1;
  ids_.clear();
  for (size_t i = 0; i < n; ++i) ids_.emplace_back(trace_spans_[begin + i].id, static_cast<uint32_t>(i));
  std::sort(ids_.begin(), ids_.end());
  for (size_t i = 1; i < ids_.size(); ++i) duplicates_ += ids_[i].first == ids_[i - 1].first ? 1 : 0;

  parent_.assign(n, -1);
  child_offset_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const Span& s = trace_spans_[begin + i];
    if (!s.parent || s.parent == s.id) continue;
    auto it = std::lower_bound(ids_.begin(), ids_.end(), std::make_pair(s.parent, 0u));
    if (it == ids_.end() || it->first != s.parent) {
      orphans_ += 1;
      continue;
    }
    parent_[i] = static_cast<int32_t>(it->second);
    ++child_offset_[it->second + 1];
    const Span& p = trace_spans_[begin + it->second];
    if (s.start_ns < p.start_ns || s.end_ns > p.end_ns) skewed_ += 1;
  }
  for (size_t i = 0; i < n; ++i) child_offset_[i + 1] += child_offset_[i];
  child_list_.assign(child_offset_[n], 0);
  std::vector<uint32_t>& fill = fill_;
  fill.assign(child_offset_.begin(), child_offset_.end() - 1);
  for (size_t i = 0; i < n; ++i)  // spans are in start order, so children lists are too
    if (parent_[i] >= 0) child_list_[fill[static_cast<size_t>(parent_[i])]++] = static_cast<uint32_t>(i);

  for (size_t i = 0; i < n; ++i) {
    Span& s = trace_spans_[begin + i];
    bool true_root = s.parent == 0;
    if (s.cls == SpanClass::request || (true_root && s.cls == SpanClass::internal)) {
      if (s.cls == SpanClass::internal) s.route = s.name;
      analyze_request(i);
    }
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
  for (auto& [key, acc] : routes_) {
    Route r;
    r.service = strings_.str(acc.service);
    r.route = strings_.str(acc.route);
    r.requests = acc.requests;
    r.errors = acc.errors;
    r.request_ms = round_to(acc.request_ms, 3);
    r.latency = latency_of(acc.latency);
    r.database_ms = round_to(acc.database_ms, 3);
    r.cache_ms = round_to(acc.cache_ms, 3);
    r.external_ms = round_to(acc.external_ms, 3);
    r.code_ms = round_to(acc.code_ms, 3);
    for (auto& [name, st] : acc.self) {
      st.name = strings_.str(name);
      st.self_ms = round_to(st.self_ms, 3);
      r.self_time.push_back(st);
    }
    std::sort(r.self_time.begin(), r.self_time.end(),
              [](auto& a, auto& b) { return std::tie(b.self_ms, a.name) < std::tie(a.self_ms, b.name); });
    if (r.self_time.size() > 10) r.self_time.resize(10);
    for (auto& [k, p] : acc.patterns) {
      p.total_ms = round_to(p.total_ms, 3);
      p.saved_ms = round_to(p.saved_ms, 3);
      r.patterns.push_back(p);
    }
    std::sort(r.patterns.begin(), r.patterns.end(), [](auto& a, auto& b) {
      return std::tie(a.kind, a.key, a.repeats) < std::tie(b.kind, b.key, b.repeats);
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
                               round_to(acc.total_ms, 3), latency_of(acc.latency)});
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
               {}};
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
