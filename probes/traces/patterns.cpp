// Patterns in one request, found by shape wherever they lie: repeated statements and endpoints
// (N+1), calls fanned out to one dependency (serial, concurrent, capped), identical statements, and
// independent external calls made one after another.
#include <algorithm>
#include <string>

#include "probes/traces/assemble.hpp"

namespace cp::traces {

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
  into.wall_ms += p.wall_ms;
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
  // Start times in whole milliseconds (many SDKs): a call that starts "before" the previous one ended
  // may have started up to 1 ms later. Ends are moved back by that much (not before their start).
  bool whole_ms = std::all_of(events.begin(), events.end(),
                              [](const auto& e) { return e.second < 0 || e.first % 1'000'000 == 0; });
  if (whole_ms) {
    for (size_t i = 0; i + 1 < events.size(); i += 2)
      events[i + 1].first = std::max(events[i].first, events[i + 1].first - 1'000'000);
  }
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

// The time at least one call runs: the union of their intervals (events in start/end pairs).
int64_t union_of(const std::vector<std::pair<int64_t, int>>& events) {
  thread_local std::vector<std::pair<int64_t, int64_t>> spans;
  spans.clear();
  for (size_t i = 0; i + 1 < events.size(); i += 2) spans.emplace_back(events[i].first, events[i + 1].first);
  if (!std::is_sorted(spans.begin(), spans.end())) std::sort(spans.begin(), spans.end());  // mostly in order
  int64_t total = 0, from = 0, to = 0;
  bool open = false;
  for (auto [start, end] : spans) {
    if (open && start <= to) {
      to = std::max(to, end);
      continue;
    }
    if (open) total += to - from;
    from = start;
    to = end;
    open = true;
  }
  return open ? total + (to - from) : total;
}

}  // namespace

// Calls from one parent to one dependency (a fan-out: one call per carrier, per shard, per item):
// how they ran — one after another, all at once, or at most k at a time (a capped pool).
void Assembler::record_repetitions(uint32_t parent, RouteAcc& acc) {
  const Node& p = nodes_[parent];
  keyed_.clear();
  for (uint32_t k = 0; k < p.count; ++k) {
    uint32_t c = child_list_[p.first + k];
    if (nodes_[c].span->cls == SpanClass::external) keyed_.emplace_back(nodes_[c].span->target, c);
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
    // Serial and unbounded fan-outs are judged as repeats or sequences: only a capped one is kept.
    Occurrence pat = repetition_of(parent, i, j, "fan_out");
    if (std::string_view(pat.shape) == "capped") record_pattern(acc, pat);
    i = j;
  }
}

// The same statement or cache command, or the same endpoint, called again and again in one
// request, wherever it hangs (under one parent, or under one resolver / loop body span each): an
// N+1 when the parameters differ or are unknown, serial or concurrent. Calls to one endpoint that
// differ by more than ids are a fan-out, not a repeat.
void Assembler::record_request_repeats(RouteAcc& acc) {
  if (calls_.size() < 2) return;
  std::sort(calls_.begin(), calls_.end());
  keyed_.swap(calls_);
  for (size_t i = 0; i < keyed_.size();) {
    size_t j = i + 1;
    while (j < keyed_.size() && keyed_[j].first == keyed_[i].first) ++j;
    if (j - i >= 2) {
      bool external = (keyed_[i].first >> 62) == 2;
      bool one_shape = true;
      for (size_t k = i + 1; k < j && external; ++k)
        one_shape = nodes_[keyed_[k].second].span->variant == nodes_[keyed_[i].second].span->variant;
      uint32_t parent = keyed_[i].second;
      for (size_t k = i + 1; k < j; ++k) parent = common_parent(parent, keyed_[k].second);
      if (parent == keyed_[i].second && nodes_[parent].parent >= 0)
        parent = static_cast<uint32_t>(nodes_[parent].parent);
      if (one_shape)
        record_pattern(acc, repetition_of(parent, i, j, external ? "repeated_call" : "n_plus_one"));
    }
    i = j;
  }
  keyed_.swap(calls_);
}

// The calls keyed_[i, j), all under `parent`: how long, how much on the path, how many different
// parameter sets or URLs, and how they ran.
Assembler::Occurrence Assembler::repetition_of(uint32_t parent, size_t i, size_t j, const char* kind) {
  Occurrence pat;
  const Span& first = *nodes_[keyed_[i].second].span;
  bool external = first.cls == SpanClass::external;
  bool fan_out = std::string_view(kind) == "fan_out";
  pat.kind = kind;
  pat.key = external ? (fan_out ? first.target : first.call) : first.statement;
  pat.repeats = static_cast<int>(j - i);
  pat.service = first.service;
  pat.parent = nodes_[parent].span->name;
  bool in_trace = false;
  pat.target = external ? dependency_of(keyed_[i].second, in_trace) : first.target;
  int64_t window_start = first.start_ns, window_end = first.end_ns, path = 0;
  double total = 0;
  events_.clear();
  distinct_.clear();
  bool known = true;
  for (size_t k = i; k < j; ++k) {
    const Node& c = nodes_[keyed_[k].second];
    total += c.span->duration_ms();
    path += c.path;
    window_start = std::min(window_start, c.span->start_ns);
    window_end = std::max(window_end, c.span->end_ns);
    events_.emplace_back(c.span->start_ns, 1);
    events_.emplace_back(c.span->end_ns, -1);
    distinct_.push_back(fan_out ? c.span->variant : c.span->identity);
    known = known && (fan_out || c.span->identity);
  }
  std::sort(distinct_.begin(), distinct_.end());
  pat.distinct =
      known ? static_cast<int>(std::unique(distinct_.begin(), distinct_.end()) - distinct_.begin()) : 0;
  set_shape(pat, total);
  if (!external && pool_waits_seen_) path += pool_waits_beside(i, j);
  pat.total_ms = total;
  pat.path_ms = ms(path);
  pat.window_ms = ms(window_end - window_start);
  return pat;
}

// The waits for a pooled connection beside the calls keyed_[i, j) (under their parents): each call
// of an N+1 takes a connection first, and concurrent ones queue for it — that wait is theirs.
int64_t Assembler::pool_waits_beside(size_t i, size_t j) {
  parents_.clear();
  for (size_t k = i; k < j; ++k)
    if (int32_t parent = nodes_[keyed_[k].second].parent; parent >= 0)
      parents_.push_back(static_cast<uint32_t>(parent));
  std::sort(parents_.begin(), parents_.end());
  parents_.erase(std::unique(parents_.begin(), parents_.end()), parents_.end());
  int64_t waits = 0;
  for (uint32_t parent : parents_) {
    const Node& p = nodes_[parent];
    for (uint32_t k = 0; k < p.count; ++k) {
      const Node& c = nodes_[child_list_[p.first + k]];
      if (c.span->pool_wait) waits += c.path;
    }
  }
  return waits;
}

// One after another when the durations add up to about the time they occupy (start times may be
// whole milliseconds while end times are not: calls in a row can seem to overlap a little).
// Otherwise capped when most of that time is spent at one level of concurrency below the count.
void Assembler::set_shape(Occurrence& pat, double total_ms) {
  pat.wall_ms = ms(union_of(events_));
  Overlap o = overlap_of(events_, pat.repeats);
  bool serial = total_ms <= 1.2 * ms(o.occupied) || o.most <= 1;
  bool capped = !serial && o.usual >= 2 && o.usual < pat.repeats && 2 * o.at_usual >= o.occupied;
  pat.concurrency = serial ? 1 : capped ? o.usual : o.most;
  pat.shape = serial ? "serial" : capped ? "capped" : "concurrent";
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

}  // namespace cp::traces
