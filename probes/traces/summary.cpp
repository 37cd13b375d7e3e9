// The snapshot the rules read: the accumulators of every analysed request, rounded, sorted and cut.
#include <algorithm>
#include <tuple>

#include "probes/traces/assemble.hpp"
#include "util/format.hpp"

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

}  // namespace

Route Assembler::route_of(RouteAcc& acc) {
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
  r.rootless_requests = acc.rootless;
  r.edge_requests = edge_requests(acc);
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
    p.wall_ms = round_to(p.wall_ms, 3);
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
  return r;
}

External Assembler::external_of(uint32_t host, ExternalAcc& acc) {
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
  return e;
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
  snap.processes = processes_;
  if (last_end_ns_ > first_start_ns_) snap.window_s = round_to(ms(last_end_ns_ - first_start_ns_) / 1000, 6);
  snap.own_requests = own_requests_;
  snap.hosts = static_cast<double>(host_names_.size());
  snap.spans_without_host = hostless_;
  for (auto& [key, acc] : routes_) snap.routes.push_back(route_of(acc));
  // Largest first; ties by name, so the report does not depend on the order of a hash map.
  std::sort(snap.routes.begin(), snap.routes.end(), [](auto& a, auto& b) {
    return std::tie(b.request_ms, a.service, a.route) < std::tie(a.request_ms, b.service, b.route);
  });
  for (auto& [id, acc] : statements_) {
    if (!id) continue;
    snap.statements.push_back({strings_.str(id), strings_.str(acc.system), acc.cache, acc.count,
                               round_to(acc.total_ms, 3), latency_of(acc.latency), strings_.str(acc.service),
                               acc.requests});
  }
  std::sort(snap.statements.begin(), snap.statements.end(),
            [](auto& a, auto& b) { return std::tie(b.total_ms, a.text) < std::tie(a.total_ms, b.text); });
  if (snap.statements.size() > 500) snap.statements.resize(500);
  for (auto& [host, acc] : externals_) snap.externals.push_back(external_of(host, acc));
  std::sort(snap.externals.begin(), snap.externals.end(),
            [](auto& a, auto& b) { return std::tie(b.total_ms, a.host) < std::tie(a.total_ms, b.host); });
  if (snap.externals.size() > 200) snap.externals.resize(200);
  for (auto& [key, acc] : links_)
    snap.links.push_back({strings_.str(static_cast<uint32_t>(key >> 32)),
                          strings_.str(static_cast<uint32_t>(key)), static_cast<double>(acc.gap.count()),
                          acc.requests, round_to(acc.request_ms, 3), round_to(acc.path_ms, 3),
                          latency_of(acc.gap)});
  std::sort(snap.links.begin(), snap.links.end(), [](auto& a, auto& b) {
    return std::tie(b.path_ms, a.caller, a.callee) < std::tie(a.path_ms, b.caller, b.callee);
  });
  if (snap.links.size() > 200) snap.links.resize(200);
  return snap;
}

}  // namespace cp::traces
