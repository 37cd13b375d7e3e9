#include "probes/prometheus/collector.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "probes/prometheus/api.hpp"
#include "probes/prometheus/client.hpp"
#include "probes/prometheus/queries.hpp"
#include "probes/prometheus/snapshot.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace cp::prom {

namespace {

struct Asked {
  std::vector<std::string> headers;
  std::string match;  // the selector as given
  std::optional<double> at;
};

Asked asked_of(const Target& target) {
  Asked a;
  for (const auto& [flag, value] : target.options) {
    if (flag == "--prometheus-header") a.headers.push_back(value);
    if (flag == "--match") a.match = value;
    if (flag == "--at") a.at = parse_time(value);
  }
  return a;
}

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string seconds_param(double t) {
  return fmt::format("{:.3f}", t);
}

// The metric names the engine holds in the window that a query reads.
std::set<std::string> discover(const Client& client, const Snapshot& snap, const std::string& matchers) {
  std::vector<std::pair<std::string, std::string>> params = {{"start", seconds_param(snap.at - snap.range_s)},
                                                             {"end", seconds_param(snap.at)}};
  if (!matchers.empty()) params.emplace_back("match[]", "{" + matchers + "}");
  auto names = read_names_answer(client.get("/api/v1/label/__name__/values", params));
  std::set<std::string> wanted = wanted_names(), present;
  for (auto& n : names)
    if (wanted.count(n)) present.insert(std::move(n));
  return present;
}

// The base URL as people paste it: a trailing /api/v1 or /api/v1/query (copied from a working
// curl) is the API itself, not its prefix.
std::string api_base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  for (std::string_view tail : {"/api/v1/query", "/api/v1"})
    if (url.size() > tail.size() && url.compare(url.size() - tail.size(), tail.size(), tail) == 0)
      return url.substr(0, url.size() - tail.size());
  return url;
}

}  // namespace

Collected collect(const Target& target, const CollectContext& ctx) {
  Asked asked = asked_of(target);
  std::string matchers = matchers_of(asked.match.empty() ? "{}" : asked.match);
  Snapshot snap;
  snap.source = target.name;
  snap.match = asked.match;
  double min_range = ctx.option("prometheus", "min_range_s");
  snap.range_s = std::max(ctx.window_s, min_range);
  if (ctx.window_s < min_range)
    snap.notes.push_back(fmt::format(
        "expressions aggregate over {:.0f} s, not the {:.0f} s window: rates need several scrapes "
        "([probes.prometheus] min_range_s)",
        snap.range_s, ctx.window_s));
  if (asked.at) {
    snap.at = *asked.at;
  } else {
    ctx.sleep_until(ctx.window_end);  // the same window the live probes measure
    snap.at = now_unix();
  }
  Client client(api_base(target.spec()), asked.headers, static_cast<long>(ctx.option("prometheus", "timeout_ms")));
  Collected c;
  std::set<std::string> present;
  try {
    present = discover(client, snap, matchers);
  } catch (const std::exception& e) {
    c.status = ProbeStatus::error;
    c.message = scrub(fmt::format("{} did not list its metrics: {}", target.name, e.what()), target.secrets);
    return c;
  }
  snap.names.assign(present.begin(), present.end());
  for (const auto& q : query_catalog()) {
    auto name = pick_name(q, present);
    if (name.empty()) continue;
    QueryResult r;
    r.id = std::string(q.id);
    r.expr = render_query(q, name, matchers, snap.range_s);
    read_query_answer(client.post("/api/v1/query", {{"query", r.expr}, {"time", seconds_param(snap.at)}}), r);
    r.error = scrub(r.error, target.secrets);
    snap.queries.push_back(std::move(r));
  }
  snap.requests = client.requests();
  // Every query refused (a proxy that lets the metric list through, an overloaded engine): the
  // target could not be examined, with the engine's first reason.
  bool all_failed = !snap.queries.empty() && std::all_of(snap.queries.begin(), snap.queries.end(),
                                                         [](const QueryResult& q) { return q.status != "ok"; });
  if (all_failed) {
    c.status = ProbeStatus::error;
    c.message = fmt::format("{} answered no query: {}", target.name, snap.queries.front().error);
  }
  c.snapshot = snap;
  return c;
}

}  // namespace cp::prom
