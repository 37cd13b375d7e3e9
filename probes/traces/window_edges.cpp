#include "probes/traces/window_edges.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "util/format.hpp"

namespace cp::traces {

bool cut_by_window(const Route& r, double min_rootless_requests) {
  if (r.requests <= 0 || r.rootless_requests < r.requests) return false;
  return r.requests < min_rootless_requests || r.edge_requests >= r.requests;
}

CutRequests set_aside_cut_routes(Snapshot& s, double min_rootless_requests) {
  CutRequests cut;
  std::erase_if(s.routes, [&](const Route& r) {
    if (!cut_by_window(r, min_rootless_requests)) return false;
    cut.requests += r.requests;
    cut.routes += 1;
    return true;
  });
  return cut;
}

double min_rootless_requests(std::string_view probe, const Settings& settings) {
  return settings.probe_option(probe, kMinRootlessRequestsOption, kMinRootlessRequests);
}

void add_window_edge_notes(const Snapshot& kept, const CutRequests& cut, double min_rootless_requests,
                           std::vector<std::string>& notes) {
  if (cut.requests > 0)
    notes.push_back(fmt::format(
        "{} requests lost their root span at the window's edges (still in flight when it closed, or begun "
        "before it): counted here, not judged as a route (rootless routes under {} requests, or lying "
        "within the longest complete request of the input's start or end: {} = {:g})",
        human_count(cut.requests), human_count(min_rootless_requests), kMinRootlessRequestsOption,
        min_rootless_requests));
  double rootless = 0;
  for (const auto& r : kept.routes)
    if (r.rootless_requests >= r.requests) rootless += r.requests;
  if (rootless > 0)
    notes.push_back(fmt::format(
        "the root span of {} requests never arrived anywhere in the input, not only at its edges: judged "
        "under a stand-in for it (does the entry service emit its server span?)",
        human_count(rootless)));
}

}  // namespace cp::traces
