// Patterns in one request: repeated statements and calls under one parent (N+1, fan-out, capped
// concurrency), identical statements, and independent external calls made one after another.
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
    if (j - i >= 2) record_pattern(acc, repetition_of(p, i, j));
    i = j;
  }
}

// The children keyed_[i, j) of `p`, one statement or dependency: how long, how much on the path,
// how many different parameter sets or URLs, and how they ran.
Assembler::Occurrence Assembler::repetition_of(const Node& p, size_t i, size_t j) {
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
  set_shape(pat, total);
  pat.total_ms = total;
  pat.path_ms = ms(path);
  pat.window_ms = ms(window_end - window_start);
  return pat;
}

// One after another when the durations add up to about the time they occupy (start times may be
// whole milliseconds while end times are not: calls in a row can seem to overlap a little).
// Otherwise capped when most of that time is spent at one level of concurrency below the count.
void Assembler::set_shape(Occurrence& pat, double total_ms) {
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
