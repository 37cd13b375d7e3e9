#include "probes/traces/breakdown.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "util/format.hpp"
#include "util/sql.hpp"

namespace cp::traces {

namespace {

// Clock skew needs two clocks: said only when the spans name more than one host. On one host a
// child outside its parent is work the parent did not wait for, or timestamps the instrumentation
// rounded (Express middleware spans start on the millisecond).
std::string skew_note(const Snapshot& s) {
  std::string n = human_count(s.skewed);
  if (s.hosts >= 2)
    return fmt::format(
        "{} spans reach outside their parent's interval (clock skew between the {} hosts): clipped to the "
        "parent",
        n, human_count(s.hosts));
  if (s.hosts == 1 && s.spans_without_host == 0)
    return fmt::format(
        "{} spans reach outside their parent's interval, all on one host (work the parent did not wait "
        "for, or rounded timestamps; not clock skew): clipped to the parent",
        n);
  return fmt::format(
      "{} spans reach outside their parent's interval (work the parent did not wait for, rounded "
      "timestamps, or clock skew if their services run on different hosts: not every span names its "
      "host.name): "
      "clipped to the parent",
      n);
}

}  // namespace

void add_notes(const Snapshot& s, Judgement& j) {
  for (const auto& f : s.files)
    j.notes.push_back(
        fmt::format("{}: {} ({}, {} spans)", f.name, f.format, human_bytes(f.bytes), human_count(f.spans)));
  if (s.orphans > 0)
    j.notes.push_back(fmt::format(
        "{} spans name a parent that never arrived (orphans): kept, grouped under a stand-in for each of the "
        "{} missing parents, inside the trace's root when it was running",
        human_count(s.orphans), human_count(s.orphan_groups)));
  if (s.untimed > 0)
    j.notes.push_back(
        fmt::format("{} spans have no start or no duration: left out of the timing (their "
                    "children hang under the nearest timed span)",
                    human_count(s.untimed)));
  if (s.shared_merged > 0)
    j.notes.push_back(
        fmt::format("{} Zipkin client/server halves sharing one span id joined: the gap between "
                    "them is network time",
                    human_count(s.shared_merged)));
  if (s.skewed > 0) j.notes.push_back(skew_note(s));
  if (s.own_requests > 0)
    j.notes.push_back(fmt::format("{} requests sent by chokepoint itself (its --http probe) left out",
                                  human_count(s.own_requests)));
  if (s.duplicates > 0)
    j.notes.push_back(fmt::format("{} duplicate span ids ignored", human_count(s.duplicates)));
  if (s.requests == 0)
    j.notes.push_back("no request (server or root span) found: only statements and dependencies are judged");
}

namespace {

nlohmann::json time_shares(const Route& r, double attributed) {
  auto share = [&](double v) { return attributed > 0 ? round_to(v / attributed, 4) : 0.0; };
  return {{"database", share(r.database_ms)},
          {"cache", share(r.cache_ms)},
          {"external", share(r.external_ms)},
          {"network", share(r.network_ms)},
          {"code", share(r.code_ms)}};
}

nlohmann::json service_detail(const Route& r) {
  nlohmann::json out = nlohmann::json::array();
  double n = std::max(r.requests, 1.0);
  for (const auto& t : r.services) {
    if (out.size() >= 20) break;
    out.push_back({{"service", t.service},
                   {"database_ms", round_to(t.database_ms / n, 3)},
                   {"cache_ms", round_to(t.cache_ms / n, 3)},
                   {"external_ms", round_to(t.external_ms / n, 3)},
                   {"network_ms", round_to(t.network_ms / n, 3)},
                   {"code_ms", round_to(t.code_ms / n, 3)}});
  }
  return out;
}

}  // namespace

void add_breakdowns(const Snapshot& s, const Target& target, Judgement& j) {
  double db = 0, cache = 0, ext = 0, net = 0, code = 0;
  size_t shown = 0;
  for (const auto& r : s.routes) {
    db += r.database_ms;
    cache += r.cache_ms;
    ext += r.external_ms;
    net += r.network_ms;
    code += r.code_ms;
    double attributed = attributed_ms(r);
    if (shown++ >= 20 || attributed <= 0) continue;
    j.breakdowns.push_back({{"service", r.service},
                            {"route", r.route},
                            {"requests", r.requests},
                            {"p50_ms", r.latency.p50},
                            {"p95_ms", r.latency.p95},
                            {"p99_ms", r.latency.p99},
                            {"latency_histogram", r.latency_histogram},
                            {"shares", time_shares(r, attributed)},
                            {"critical_path_ms", round_to(attributed / std::max(r.requests, 1.0), 3)},
                            {"services", service_detail(r)}});
    std::map<std::string, std::string> labels = {
        {"target", target.name}, {"service", r.service}, {"route", r.route}};
    j.metrics.push_back({"traces.route_p95_ms", r.latency.p95, "ms", labels});
    j.metrics.push_back({"traces.route_requests", r.requests, "requests", labels});
  }
  double total = db + cache + ext + net + code;
  std::map<std::string, std::string> labels = {{"target", target.name}};
  j.metrics.push_back({"traces.spans", s.spans, "spans", labels});
  j.metrics.push_back({"traces.requests", s.requests, "requests", labels});
  j.metrics.push_back({"traces.orphan_spans", s.orphans, "spans", labels});
  j.metrics.push_back({"traces.skewed_spans", s.skewed, "spans", labels});
  j.metrics.push_back({"traces.untimed_spans", s.untimed, "spans", labels});
  if (total > 0) {
    j.attribution[Category::database] = (db + cache) / total;
    j.attribution[Category::network] = (ext + net) / total;
    j.attribution[Category::code] = code / total;
    for (auto [name, v] :
         {std::pair{"database", db}, {"cache", cache}, {"external", ext}, {"network", net}, {"code", code}}) {
      auto l = labels;
      l["category"] = name;
      j.metrics.push_back({"traces.time_share", round_to(v / total, 4), "ratio", l});
    }
  }
}

}  // namespace cp::traces
