// Helpers the traces rules share (rules.cpp: statements and code; external_rules.cpp: external
// calls): patterns summed per key, their impact on the request and the severity it earns.
#pragma once

#include <map>
#include <string>

#include "core/rule_spec.hpp"
#include "probes/traces/snapshot.hpp"

namespace cp::traces {

double mean_request_ms(const Route& r);

// Severity grows with the share of the request's time (thresholds of the rule).
Severity share_severity(double share, const RuleParams& p);
// The same for rules that fire only on a large share: medium below high_request_share.
Severity share_severity_from_medium(double share, const RuleParams& p);

// Patterns of one kind and key (and shape) with at least `min_repeats`, summed over requests.
struct PatternTotal {
  double requests = 0, total_ms = 0, repeats = 0, saved_ms = 0, path_ms = 0, window_ms = 0, wall_ms = 0;
  int concurrency = 0;
  int distinct = 0;  // the most different parameter sets / URLs in one request (0: not known)
  std::string parent, service, target, shape;
  const Pattern* first = nullptr;  // carries the code location, when the spans had one
};

using PatternFilter = bool (*)(const Pattern&);
bool any_pattern(const Pattern&);

std::map<std::string, PatternTotal> totals(const Route& r, const std::string& kind, double min_repeats,
                                           PatternFilter keep = any_pattern);

// Time per request on the critical path, never more than the request lasted, and its share.
struct Impact {
  double per_request_ms = 0, share = 0;
};
Impact impact_of(const Route& r, double path_ms, double requests);
// Wall time (union of the calls' intervals) per request, never more than the request lasted.
double wall_per_request(const Route& r, const PatternTotal& t);

// Absolute or relative: worth reporting when it costs `min_total_ms` per request, or a large share of
// a faster request (above a small floor).
bool worth_reporting(const Impact& i, const RuleParams& p);

// Patterns fire on their count: a costly one (worth_reporting) at the rule's minimum, a cheap one
// from min_cheap_repeats (low). Severity grows with the cost, by share or by time per request.
bool pattern_fires(const Impact& i, double repeats_per_request, const RuleParams& p);
Severity pattern_severity(const Impact& i, const RuleParams& p);

// How the repetitions ran, in words for a title: "one after another", "concurrently", "at most 3 at a time".
std::string shape_words(const PatternTotal& t);

// The source location the spans recorded (code.*), as evidence keys: where a SARIF annotation goes.
void add_code_location(json& evidence, const Pattern* p);

}  // namespace cp::traces
