// Assembles spans into traces and requests, and measures where each request's time goes. Pure
// computation over what the readers delivered; thresholds are applied later by the rules.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "probes/traces/snapshot.hpp"
#include "probes/traces/span.hpp"
#include "util/stats.hpp"

namespace cp::traces {

// Values by trace id: open addressing with linear probing; erase shifts the rest of a run back (no
// tombstones). A pointer it hands out is valid until the next insertion or erasure.
template <typename V>
class TraceMap {
 public:
  TraceMap() : entries_(1024) {}
  V* find(const TraceId& t) {
    for (size_t i = home(t);; i = next(i)) {
      if (!entries_[i].used) return nullptr;
      if (entries_[i].key == t) return &entries_[i].value;
    }
  }
  std::pair<V*, bool> try_emplace(const TraceId& t) {
    if (2 * (size_ + 1) > entries_.size()) grow();
    size_t i = home(t);
    for (; entries_[i].used; i = next(i))
      if (entries_[i].key == t) return {&entries_[i].value, false};
    entries_[i] = {t, {}, true};
    ++size_;
    return {&entries_[i].value, true};
  }
  void erase(const TraceId& t) {
    size_t i = home(t);
    for (; entries_[i].used; i = next(i))
      if (entries_[i].key == t) break;
    if (!entries_[i].used) return;
    --size_;
    // Move back each later entry of the run that may live at the hole (its home is not after it).
    for (size_t hole = i, j = next(i);; j = next(j)) {
      if (!entries_[j].used) {
        entries_[hole].used = false;
        return;
      }
      size_t h = home(entries_[j].key);
      bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
  }
  size_t size() const { return size_; }
  void clear() {
    entries_.assign(1024, {});
    size_ = 0;
  }

 private:
  struct Entry {
    TraceId key;
    V value;
    bool used = false;
  };
  size_t home(const TraceId& t) const {
    return static_cast<size_t>(((t.lo ^ (t.hi * 0x9E3779B97F4A7C15ull)) * 0x9E3779B97F4A7C15ull) >> 32) &
           (entries_.size() - 1);
  }
  size_t next(size_t i) const { return (i + 1) & (entries_.size() - 1); }
  void grow() {
    std::vector<Entry> old(entries_.size() * 2);
    old.swap(entries_);
    for (const Entry& e : old) {
      if (!e.used) continue;
      size_t i = home(e.key);
      while (entries_[i].used) i = next(i);
      entries_[i] = e;
    }
  }
  std::vector<Entry> entries_;  // a power of two, at most half used
  size_t size_ = 0;
};

// Accumulators by interned-string id. Ids are small and dense: an index, not a hash map, on the
// path every database and external span takes. References stay valid until the next insertion.
template <typename V>
class IdMap {
 public:
  V& operator[](uint32_t id) {
    if (id >= slot_.size()) slot_.resize(std::max<size_t>(id + 1, 2 * slot_.size()), kNone);
    uint32_t& slot = slot_[id];
    if (slot == kNone) {
      slot = static_cast<uint32_t>(values_.size());
      values_.emplace_back(id, V{});
    }
    return values_[slot].second;
  }
  auto begin() { return values_.begin(); }
  auto end() { return values_.end(); }

 private:
  static constexpr uint32_t kNone = ~0u;
  std::vector<uint32_t> slot_;
  std::vector<std::pair<uint32_t, V>> values_;  // in order of first use
};

// The analysis' tunables and their defaults: the one declaration the traces and otlp probes'
// options (chokepoint.toml [probes.traces] / [probes.otlp]) are made from.
struct AnalysisOptions {
  // Sequential calls further apart than this are not one sequence (Sentry's Consecutive HTTP).
  double sequential_max_gap_ms = 500;
  // Calls shorter than this are not worth parallelizing and end a sequence.
  double sequential_min_call_ms = 50;
  // A trace none of whose spans arrived in this much of the latest input is complete: it is
  // analysed and its spans dropped, so memory stays flat however large the input. A span arriving
  // later still is counted as an orphan.
  double trace_horizon_mb = 64;
};

class Assembler {
 public:
  explicit Assembler(const AnalysisOptions& options = {})
      : max_gap_ns_(static_cast<int64_t>(options.sequential_max_gap_ms * 1e6)),
        min_call_ns_(static_cast<int64_t>(options.sequential_min_call_ms * 1e6)),
        horizon_bytes_(static_cast<uint64_t>(options.trace_horizon_mb * 1048576)) {}

  // `offset_base`: where the span's file starts in the whole input (files follow one another).
  void add(const RawSpan& raw, uint64_t offset_base = 0);
  void add_file(InputFile f) { files_.push_back(std::move(f)); }
  Snapshot finish();

 private:
  struct ServiceAcc {
    double database_ms = 0, cache_ms = 0, external_ms = 0, network_ms = 0, code_ms = 0;
  };
  struct RouteAcc {
    uint32_t service = 0, route = 0;
    Histogram latency;
    double requests = 0, errors = 0, request_ms = 0;
    ServiceAcc path;                                    // the critical paths, by what they were spent on
    std::unordered_map<uint32_t, ServiceAcc> services;  // the same by service
    std::unordered_map<uint64_t, SelfTime> self;        // by (service, span name)
    std::unordered_map<uint64_t, Pattern> patterns;     // by (kind, key, repeats, shape, parent)
    std::unordered_map<uint64_t, Timeout> timeouts;     // by (span, locus)
    // Requests whose root never arrived (a stand-in or an orphan stands for it), and the intervals
    // of the first kRootlessKept of them: at finish, which ones touch the input's time span's edges.
    double rootless = 0;
    std::vector<std::pair<int64_t, int64_t>> rootless_at;
  };
  static constexpr size_t kRootlessKept = 1024;
  struct StatementAcc {
    Histogram latency;
    uint32_t system = 0, service = 0;  // service: the first that ran it
    bool cache = false;
    double count = 0, total_ms = 0;
    double requests = 0, last_request = -1;  // requests it ran in; the last one (requests_ then)
  };
  struct CallAcc {
    Histogram latency;
    double count = 0, total_ms = 0;
  };
  // Calls between two services in the trace: the time between the client span and the server
  // span it reached (the network, a proxy, a queue in front of the callee).
  struct LinkAcc {
    Histogram gap;  // ms per call: client duration minus server duration
    double path_ms = 0, requests = 0, request_ms = 0;
  };
  struct ExternalAcc {
    Histogram latency;
    double count = 0, errors = 0, timeouts = 0, server_errors = 0, total_ms = 0, requests = 0, request_ms = 0;
    double path_ms = 0;
    bool in_trace = false;
    std::unordered_map<uint32_t, CallAcc> calls;
    std::unordered_map<uint64_t, double> consumed_by;  // timeouts: (service, span) that consumed the budget
  };

  // One span of the trace being analysed, in its tree. Synthetic nodes stand for a parent that
  // never arrived, grouping its orphans.
  struct Node {
    Span* span;  // in spans_, or a stand-in (the tree pass may give it a statement it lacked)
    int32_t parent = -1;
    uint32_t first = 0, count = 0;  // children: child_list_[first, first + count), in start order
    int64_t path = 0;               // ns of this subtree on its request's critical path
    int64_t self_path = 0;          // ns of the span itself on it
    int32_t reached = -1;           // client spans: the callee's server span, when it is in the trace
    int32_t shared_server = -1;     // the Zipkin server half sharing this client span's id
    int32_t shared_client = -1;     // and the other way round
    bool in_tree = true;            // false: untimed or a duplicate
    bool duplicate = false;
    bool counted_elsewhere = false;  // a datastore call another span of the same call stands for
    uint16_t depth = 0;              // below its request's entry span
  };

  static double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }
  uint32_t statement_id(const RawSpan& raw, bool cache);
  uint32_t intern_statement(std::string_view text);  // interned and marked a normalized statement
  void name_what_it_does(Span& s, const RawSpan& raw);
  void name_call(Span& s, const RawSpan& raw);
  void note_host(std::string_view host);
  bool sent_by_chokepoint() const;  // the trace being analysed
  void evict_complete_traces(uint64_t now);
  void analyze_keys();  // the spans sort_keys_ point at: whole traces, any order
  void analyze_trace();
  void link_parents();
  void resolve_shared_id(size_t first, size_t end);  // ids_[first, end): one id
  void skip_untimed_parents();
  int32_t resolve_parent(uint32_t child);
  void group_orphans();
  void place_orphans(size_t first, size_t end);  // orphans_of_[first, end): one missing parent
  void join_rootless();
  void build_children(bool count_skew = true);
  bool hang_outliving_spans();                   // children its parent did not wait for
  bool adopt_covered_spans();                    // flat parent links: see the README
  bool adopt_covered_children(uint32_t parent);  // of one parent; true when a child moved
  void join_split_statements();                  // PDO prepare/execute, ORM wrapper over driver
  uint32_t common_parent(uint32_t a, uint32_t b) const;
  bool is_catch_all(uint32_t route) const;
  uint32_t downstream_route(uint32_t root) const;
  void record_link(uint32_t client);
  void walk_critical_path(uint32_t root);
  void analyze_entry(uint32_t root);
  void note_window_edges(uint32_t root, RouteAcc& acc);  // the input's time span, rootless requests
  bool lost_its_root(uint32_t root) const;
  double edge_requests(const RouteAcc& acc) const;  // at finish: rootless ones at the edges
  uint32_t entry_route(uint32_t root, uint32_t& service);
  // Keys of the calls a request repeats: kind (1 datastore statement, 2 external endpoint), service, id.
  static uint64_t repeat_key(uint64_t kind, uint32_t service, uint32_t id) {
    return kind << 62 | (static_cast<uint64_t>(service) & 0x3fffffff) << 32 | id;
  }
  void attribute_node(uint32_t i, RouteAcc& acc);
  void attribute_datastore_call(uint32_t i, RouteAcc& acc, ServiceAcc& svc);
  void attribute_call(uint32_t i, RouteAcc& acc, ServiceAcc& svc);
  static void attribute_code(const Span& s, double own, RouteAcc& acc, ServiceAcc& svc);
  void record_dependency_call(uint32_t i);
  void record_repetitions(uint32_t parent, RouteAcc& acc);  // fan-out to a dependency
  void record_request_repeats(RouteAcc& acc);               // N+1s and repeated calls by key
  void record_identical(RouteAcc& acc);
  void record_sequence(uint32_t parent, RouteAcc& acc, uint32_t entry_name);
  void record_timeout(uint32_t i, RouteAcc& acc);
  uint32_t dependency_of(uint32_t i, bool& in_trace) const;
  // One pattern seen in one request, by string ids: strings are made once per distinct pattern.
  struct Occurrence {
    const char* kind = "";
    const char* shape = "";
    uint32_t key = 0, service = 0, target = 0, parent = 0;
    int repeats = 0, concurrency = 0, distinct = 0;
    double total_ms = 0, saved_ms = 0, path_ms = 0, window_ms = 0, wall_ms = 0;
  };
  void record_pattern(RouteAcc& acc, const Occurrence& p);
  Route route_of(RouteAcc& acc);  // for the snapshot: rounded, sorted, cut
  External external_of(uint32_t host, ExternalAcc& acc);
  // keyed_[first, end): one statement, endpoint or dependency, under `parent`.
  Occurrence repetition_of(uint32_t parent, size_t first, size_t end, const char* kind);
  void set_shape(Occurrence& pat, double total_ms);     // from events_
  int64_t pool_waits_beside(size_t first, size_t end);  // keyed_[first, end): path ns

  int64_t max_gap_ns_;
  int64_t min_call_ns_;
  uint64_t horizon_bytes_;
  size_t pending_limit_ = 1u << 18;
  struct Pending {
    uint64_t offset = 0;  // input offset of the trace's latest span
    uint32_t seq = 0;     // traces in order of arrival: a small sort key
  };
  TraceMap<Pending> last_seen_;  // by trace: looked up whenever the trace changes between spans
  uint32_t next_seq_ = 0;
  Interner strings_;
  std::vector<Span> spans_;
  std::vector<InputFile> files_;
  std::vector<bool> is_statement_;  // by string id: a normalized statement
  std::string call_scratch_;
  std::unordered_map<uint64_t, RouteAcc> routes_;
  // Where a statement or call was first issued from (code.* attributes), by service and the
  // statement's or call's string id: a pattern on it names that source line.
  struct CodeAt {
    uint32_t file = 0, function = 0;
    int64_t line = 0;
  };
  std::unordered_map<uint64_t, CodeAt> code_at_;
  void note_code_location(uint32_t service, uint32_t key, const RawSpan& raw);
  IdMap<StatementAcc> statements_;
  IdMap<ExternalAcc> externals_;
  std::unordered_map<uint64_t, LinkAcc> links_;  // by (caller service, callee service)
  std::vector<uint64_t> request_links_;          // the links the request being analysed used
  size_t total_spans_ = 0;
  double traces_ = 0, requests_ = 0, orphans_ = 0, skewed_ = 0, duplicates_ = 0;
  double untimed_ = 0, shared_merged_ = 0, orphan_groups_ = 0;
  double own_spans_ = 0, own_requests_ = 0, hostless_ = 0;
  std::string last_host_;
  std::vector<uint32_t> host_names_;  // distinct, by string id
  uint32_t missing_span_name_ = 0;
  // The input's time span (first request's start to last request's end) and the longest request
  // whose root arrived: a rootless request within that of an edge may have been cut by the window.
  int64_t first_start_ns_ = INT64_MAX, last_end_ns_ = INT64_MIN, longest_rooted_ns_ = 0;
  uint32_t browser_service_ = 0;
  bool last_values_known_ = false;  // the statement statement_id() last read carried its values

  // The previous span's service, database system and trace: consecutive spans mostly share them.
  struct Recent {  // the last string interned through it, and its id
    std::string text;
    uint32_t id = 0;
    uint32_t intern(Interner& strings, std::string_view s) {
      if (s != text || !id) {
        text.assign(s);
        id = strings.intern(s);
      }
      return id;
    }
  };
  Recent last_service_, last_system_;
  std::vector<ProcessInfo> processes_;  // per service, the first seen
  uint32_t last_process_service_ = 0;   // the service of the last span that named its process
  void note_process(uint32_t service, const RawSpan& raw);
  TraceId last_trace_{~0ull, ~0ull};
  Pending* last_seen_slot_ = nullptr;

  // Per-trace scratch, reused without allocating.
  std::vector<uint8_t> dropped_;  // spans_ analysed by the current eviction
  struct SortKey {
    uint32_t seq;
    uint32_t index;
    int64_t start;
  };
  std::vector<SortKey> sort_keys_;
  std::vector<Node> nodes_;
  std::deque<Span> stand_ins_;  // spans made up for missing parents (stable addresses)  // the trace being
                                // analysed, in start order, then synthetic parents
  std::vector<std::pair<uint64_t, uint32_t>> ids_, orphans_of_, keyed_, calls_;
  std::vector<uint32_t> child_list_, by_end_, fill_, stack_, hosts_, parents_;
  std::vector<std::pair<int64_t, int>> events_;
  std::vector<uint64_t> distinct_;
  std::vector<uint32_t> rootless_;
  int64_t entry_ns_ = 0;
  bool timeout_recorded_ = false;  // the request being analysed: its duration
  bool pool_waits_seen_ = false;   // the request being analysed waited for pooled connections
  struct Frame {
    uint32_t node;
    int64_t from, to, cursor;
    uint32_t next;
  };
  std::vector<Frame> frames_;
  std::vector<std::pair<uint64_t, uint32_t>> identities_;  // per request: (identity, node)
  ServiceAcc* last_service_acc_ = nullptr;                 // the route's entry of the last node's service
  uint32_t last_service_acc_id_ = 0;
};

}  // namespace cp::traces
