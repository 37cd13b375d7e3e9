// Requests cut by the window (issue #23): a request still in flight when the window closed (or a
// capture ended) has its children's spans and not its root's. Such requests are counted in a note
// and never form a route or a finding; a service that never emits a root keeps its diagnosis.
#pragma once

#include <string_view>

#include "core/settings.hpp"
#include "probes/traces/snapshot.hpp"

namespace cp::traces {

// The probe option ([probes.traces] / [probes.otlp]) and its default, with where it comes from.
inline constexpr std::string_view kMinRootlessRequestsOption = "min_rootless_requests";
inline constexpr double kMinRootlessRequests = 5;
inline constexpr std::string_view kMinRootlessRequestsSource =
    "chokepoint default (issue #23): as many as Sentry's N+1 detector wants repetitions (5) before a "
    "pattern counts; a handful of requests cut at the window's edges stay under it";

struct CutRequests {
  double requests = 0, routes = 0;
};

// A route is cut by the window when every one of its requests lost its root span and either they
// are fewer than `min_rootless_requests`, or every one of them lies at an edge of the input's time
// span (Route::edge_requests: only when complete requests show how long a root runs).
bool cut_by_window(const Route& r, double min_rootless_requests);

// Removes the routes cut by the window from `s`; what was removed.
CutRequests set_aside_cut_routes(Snapshot& s, double min_rootless_requests);

double min_rootless_requests(std::string_view probe, const Settings& settings);

// The notes: how many requests were cut and set aside; routes kept although rootless.
void add_window_edge_notes(const Snapshot& kept, const CutRequests& cut, double min_rootless_requests,
                           std::vector<std::string>& notes);

}  // namespace cp::traces
