#include "probes/traces/rule_helpers.hpp"

#include "probes/request_cost.hpp"

#include <algorithm>
#include <string>

namespace cp::traces {

double mean_request_ms(const Route& r) {
  return r.requests > 0 ? r.request_ms / r.requests : 0;
}

Severity share_severity(double share, const RuleParams& p) {
  return share >= p["critical_request_share"] ? Severity::critical
         : share >= p["high_request_share"]   ? Severity::high
         : share >= p["medium_request_share"] ? Severity::medium
                                              : Severity::low;
}

Severity share_severity_from_medium(double share, const RuleParams& p) {
  return share >= p["critical_request_share"] ? Severity::critical
         : share >= p["high_request_share"]   ? Severity::high
                                              : Severity::medium;
}

bool any_pattern(const Pattern&) {
  return true;
}

std::map<std::string, PatternTotal> totals(const Route& r, const std::string& kind, double min_repeats,
                                           PatternFilter keep) {
  std::map<std::string, PatternTotal> out;
  for (const auto& p : r.patterns) {
    if (p.kind != kind || p.repeats < min_repeats || !keep(p)) continue;
    PatternTotal& t = out[p.key];
    if (t.requests == 0) {
      t.parent = p.parent;
      t.service = p.service;
      t.target = p.target;
      t.shape = p.shape;
      t.first = &p;
    }
    t.requests += p.requests;
    t.total_ms += p.total_ms;
    t.repeats += p.repeats * p.requests;
    t.saved_ms += p.saved_ms;
    t.path_ms += p.path_ms;
    t.window_ms += p.window_ms;
    t.wall_ms += p.wall_ms;
    t.concurrency = std::max(t.concurrency, p.concurrency);
    t.distinct = std::max(t.distinct, p.distinct);
  }
  return out;
}

Impact impact_of(const Route& r, double path_ms, double requests) {
  double mean = mean_request_ms(r);
  double per_request = requests > 0 ? std::min(path_ms / requests, mean) : 0;
  return {per_request, mean > 0 ? std::min(1.0, per_request / mean) : 0};
}

double wall_per_request(const Route& r, const PatternTotal& t) {
  return t.requests > 0 ? std::min(t.wall_ms / t.requests, mean_request_ms(r)) : 0;
}

bool worth_reporting(const Impact& i, const RuleParams& p) {
  return i.per_request_ms >= p["min_total_ms"] ||
         (i.share >= p["min_request_share"] && i.per_request_ms >= p["min_share_ms"]);
}

bool pattern_fires(const Impact& i, double repeats_per_request, const RuleParams& p) {
  return worth_reporting(i, p) || repeats_per_request >= p["min_cheap_repeats"];
}

Severity pattern_severity(const Impact& i, const RuleParams& p) {
  return request_cost_severity(i.per_request_ms, i.share, p);
}

std::string shape_words(const PatternTotal& t) {
  if (t.shape == "concurrent") return "concurrently";
  if (t.shape == "capped") return "at most " + std::to_string(t.concurrency) + " at a time";
  return "one after another";
}

void add_code_location(json& evidence, const Pattern* p) {
  if (!p || (p->code_filepath.empty() && p->code_function.empty())) return;
  if (!p->code_filepath.empty()) evidence["code_filepath"] = p->code_filepath;
  if (p->code_lineno > 0) evidence["code_lineno"] = p->code_lineno;
  if (!p->code_function.empty()) evidence["code_function"] = p->code_function;
}

}  // namespace cp::traces
