#include "probes/prometheus/rules.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "probes/host/rules.hpp"
#include "probes/http/rules.hpp"
#include "probes/pgbouncer/rules.hpp"
#include "probes/postgres/rules.hpp"
#include "probes/prometheus/instances.hpp"
#include "probes/prometheus/queries.hpp"
#include "probes/redis/rules.hpp"
#include "util/format.hpp"
#include "util/time.hpp"

namespace cp::prom {

namespace {

// One instance judged by the direct probe's rules.
Judgement judge_instance(const std::string& family, const Results& r, const std::string& key,
                         const std::map<std::string, std::string>& labels, const std::string& name,
                         double range_s, const Settings& settings) {
  Target t;
  t.kind = family;
  t.name = name;
  std::string id = instance_id(family, labels);
  if (family == "container") return host::judge(container_snapshot(r, key, id, range_s), t, settings);
  if (family == "host") return host::judge(node_snapshot(r, key, id, range_s), t, settings);
  if (family == "postgres") return pg::judge(postgres_snapshot(r, key, id, range_s), t, settings);
  if (family == "pgbouncer") return pgb::judge(pgbouncer_snapshot(r, key, range_s), t, settings);
  if (family == "http") return http::judge(http_snapshot(r, key, id, range_s), t, settings);
  // The Redis rules name a server "redis:" + its address (what redis_exporter's instance is).
  t.name = id;
  return redis::judge(redis_snapshot(r, key, range_s), t, settings);
}

// What a finding of the fleet says beyond the direct probe's: which instance, with which labels.
void name_instance(Finding& f, const std::string& name, const std::string& kind,
                   const std::map<std::string, std::string>& labels) {
  f.target = name;
  f.id = make_finding_id(f.rule, f.id + "@" + name);
  static_assert(kFleetEvidenceKeys.size() == 4, "the keys below are the fleet's evidence keys");
  f.evidence[std::string(kFleetEvidenceKeys[0])] = name;
  f.evidence[std::string(kFleetEvidenceKeys[1])] = kind;
  f.evidence[std::string(kFleetEvidenceKeys[2])] = labels;
  f.evidence[std::string(kFleetEvidenceKeys[3])] = "prometheus";
}

// What could not be judged, and why: families without series, failed queries, engine warnings,
// and signals that are coarser through an exporter than from the server itself.
std::vector<std::string> fleet_notes(const Snapshot& s, const Results& r, Fleet& fleet) {
  std::vector<std::string> notes = s.notes;
  for (const auto& f : families())
    if (!r.has(std::string(f.presence)))
      fleet.not_examined.push_back(fmt::format("{}: no {} series{} in the window", f.kind, f.exporter,
                                               s.match.empty() ? "" : " matching " + s.match));
  std::set<std::string> warnings;
  for (const auto& q : s.queries) {
    if (q.status != "ok") notes.push_back(fmt::format("{} could not be judged: {} ({})", q.id, q.error, q.expr));
    warnings.insert(q.warnings.begin(), q.warnings.end());
  }
  for (const auto& w : warnings) notes.push_back("the engine warned: " + w);
  if (r.has("requests.calls"))
    notes.push_back("requests (span metrics): the busiest routes' rate, errors and p95 are reported as metrics "
                    "(fleet.route_*), not judged: span metrics hold no call tree, so where a request's time went "
                    "needs the spans themselves (--otlp-listen, --traces)");
  else
    for (auto n : span_metric_names())
      if (std::find(s.names.begin(), s.names.end(), n) != s.names.end())
        fleet.not_examined.push_back(fmt::format(
            "requests: span metrics ({}) exist but are not judged (they hold no call tree): give chokepoint the "
            "spans themselves (--otlp-listen, --traces) for the requests' critical paths",
            n));
  if (r.has("postgres.up"))
    notes.push_back(
        "postgres (through postgres_exporter): connections, idle transactions, cache hits and deadlocks are "
        "judged; lock waits (who blocks whom), statements and indexes need --postgres on the server itself");
  if (r.has("redis.commands"))
    notes.push_back("redis (through redis_exporter): counters are judged; slow commands and round trips need "
                    "--redis on the server itself");
  if (r.has("http.duration"))
    notes.push_back("http (through blackbox_exporter): each phase's average and 95th percentile over the window "
                    "stand for the probes' calls; the requests' own share of that time needs traces");
  if (r.has("pgbouncer.client_active") && !r.has("pgbouncer.xacts"))
    notes.push_back("pgbouncer: no pgbouncer_stats_* series, so transaction and query times (and whether the "
                    "application holds transactions open) cannot be judged, only waiting clients");
  return notes;
}

// The busiest routes of the span metrics as report metrics: calls per second, error ratio, p95.
void add_request_metrics(const Results& r, double range_s, const std::string& source, Judgement& j) {
  for (const auto& [key, labels] : r.instances("requests")) {
    auto label = [&](const char* k) { return labels.count(k) ? labels.at(k) : std::string(); };
    std::string service = label("service_name").empty() ? label("service") : label("service_name");
    std::map<std::string, std::string> l = {{"target", source}, {"service", service}, {"route", label("span_name")}};
    double calls = r.value("requests.calls", key).value_or(0);
    if (range_s > 0) j.metrics.push_back({"fleet.route_calls_per_s", round_to(calls / range_s, 3), "calls/s", l});
    if (calls > 0)
      j.metrics.push_back(
          {"fleet.route_error_ratio", round_to(r.value("requests.errors", key).value_or(0) / calls, 4), "ratio", l});
    auto p95 = r.value("requests.p95_ms", key);
    if (!p95)
      if (auto s95 = r.value("requests.p95_s", key)) p95 = *s95 * 1000;
    if (p95 && std::isfinite(*p95)) j.metrics.push_back({"fleet.route_p95_ms", round_to(*p95, 3), "ms", l});
  }
}

}  // namespace

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  (void)target;
  Judgement j;
  Results r(s);
  Fleet fleet;
  fleet.source = s.source;
  fleet.at = rfc3339_utc(s.at);
  fleet.range_s = s.range_s;
  fleet.queries = s.requests;
  for (const auto& family : families()) {
    std::string kind(family.kind);
    if (!r.has(std::string(family.presence)) || kind == "requests") continue;
    for (const auto& [key, labels] : r.instances(kind)) {
      std::string name = instance_name(kind, labels);
      Judgement one = judge_instance(kind, r, key, labels, name, s.range_s, settings);
      for (auto& f : one.findings) {
        name_instance(f, name, kind, labels);
        j.findings.push_back(std::move(f));
      }
      fleet.instances.push_back({name, kind, labels, std::nullopt, std::nullopt, {}, ""});
    }
  }
  add_request_metrics(r, s.range_s, s.source, j);
  j.notes = fleet_notes(s, r, fleet);
  if (fleet.instances.empty()) {
    j.measured = 0;
    j.too_little = "no instance of any family chokepoint judges had series in the window";
  }
  j.metrics.push_back({"fleet.instances", static_cast<double>(fleet.instances.size()), "instances",
                       {{"target", s.source}}});
  j.metrics.push_back({"fleet.queries", static_cast<double>(fleet.queries), "requests", {{"target", s.source}}});
  j.fleet = std::move(fleet);
  return j;
}

RuleDeclarations rule_declarations() {
  RuleDeclarations d = host::rule_declarations().judged_only();
  for (const auto& other : {pg::rule_declarations(), redis::rule_declarations(), pgb::rule_declarations(),
                            http::rule_declarations()})
    for (auto id : other.judged)
      if (!d.judges(id)) d.judged.push_back(id);
  return d;
}

}  // namespace cp::prom
