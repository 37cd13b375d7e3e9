// The report's vocabulary: categories, severities, findings, metrics, probe results.
// Plain data; JSON (de)serialization lives in report_json.cpp.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp {

using json = nlohmann::ordered_json;

enum class Category { database, network, code, infrastructure };
inline constexpr std::array<Category, 4> kCategories = {Category::database, Category::network, Category::code,
                                                        Category::infrastructure};
std::string_view to_string(Category c);
std::optional<Category> category_from_string(std::string_view s);

// Ordered from least to most severe so comparisons read naturally (a >= Severity::high).
enum class Severity { info, low, medium, high, critical };
std::string_view to_string(Severity s);
std::optional<Severity> severity_from_string(std::string_view s);

struct Impact {
  std::optional<double> share;  // 0..1 of `basis`, null when unknown
  std::string basis;            // "db_time", "request_time", "calls", "cpu_time" …
};

struct Remediation {
  std::string summary;
  std::optional<std::string> sql;     // a statement to run, when there is one
  std::optional<std::string> config;  // a configuration snippet, when there is one
};

// A finding the team accepted for now ([[acknowledge]] in chokepoint.toml): it stays in the report
// with the reason, and does not count toward the gate until `until` has passed.
struct FindingAcknowledgement {
  std::string reason;
  std::optional<std::string> until;  // YYYY-MM-DD, the last day it holds
  bool expired = false;              // `until` has passed: the finding counts again
};

// One probe's view of a finding's fact (src/core/reconcile.cpp): the probes that measured the same
// statement, table, key or endpoint are listed on one finding, each with its own numbers.
struct Sighting {
  std::string probe, target;  // probe kind, target display name
  std::string id, rule;       // the finding it gave before the merge
  Severity severity = Severity::info;
  json evidence = json::object();
};

struct Finding {
  std::string id;  // stable fingerprint of rule + subject, see make_finding_id
  std::string rule;
  Category category = Category::database;
  Severity severity = Severity::info;
  std::string component;  // "postgres:shop", "http:api.example.com" …
  std::string title;      // one line a person can act on
  std::string detail;
  Impact impact;
  json evidence = json::object();
  Remediation remediation;
  json thresholds = json::object();  // {name: {value, unit, source}} the rule judged against
  std::string baseline;              // "", "new", "unchanged", "regressed" (set by the gate)
  std::string level;                 // "", "warn", "error": the rule's configured gate level
  bool fails_gate = false;           // set by the gate
  std::optional<FindingAcknowledgement> acknowledgement;  // set by the gate
  std::string probe, target;  // where it came from (probe kind, target display name)
  // Every probe that saw the same fact, this finding's own view first; empty when only one did.
  std::vector<Sighting> seen_by;
  // Findings of other rules about the same subject (a slow query and the index it misses).
  std::vector<std::string> related;
};

struct Metric {
  std::string name;
  double value = 0;
  std::string unit;
  std::map<std::string, std::string> labels;
};

// Readings sampled through the live window: [seconds since the window started, value] pairs.
struct Series {
  std::string name;  // "pg.sessions", "http.request_ms" … (same naming as metrics)
  std::string unit;
  std::map<std::string, std::string> labels;
  std::vector<std::pair<double, double>> points;
};

enum class ProbeStatus { ok, error, skipped };
std::string_view to_string(ProbeStatus s);

struct ProbeResult {
  std::string name;    // probe kind: "postgres"
  std::string target;  // redacted display name of the target
  ProbeStatus status = ProbeStatus::ok;
  std::string message;             // actionable text when status is error
  std::vector<std::string> notes;  // caveats: young statistics, truncated input …
  double duration_ms = 0;
};

struct TargetRef {
  std::string kind;
  std::string name;  // redacted
};

struct RankEntry {
  Category category = Category::database;
  double probability = 0;
  bool examined = false;
  std::vector<std::string> findings;  // ids
  std::string not_examined_reason;    // empty when examined
};

struct Verdict {
  std::optional<Category> category;  // nullopt = "none"
  double confidence = 0;
  std::string headline;
};

// What the baseline said, kept so a report can show before and after side by side.
struct BaselineSummary {
  std::string started_at;
  Verdict verdict;
  std::vector<RankEntry> ranking;  // category, probability, examined
  std::vector<Finding> findings;   // id, rule, severity, component, title only
};

struct BaselineDiff {
  std::optional<std::string> file;
  std::optional<BaselineSummary> summary;
  std::vector<std::string> new_ids, unchanged_ids, resolved_ids, regressed_ids;
  // Baseline findings this run could not check: the probe that found them did not examine its target.
  std::vector<std::string> unverified_ids;
  json metric_changes = json::array();
  // The baseline's findings no longer seen: {id, rule, severity, component, title} each, so a
  // summary can name what was fixed (the ids alone say nothing to a reader).
  json resolved_findings = json::array();
};

// One [[acknowledge]] of the configuration as the gate applied it: which findings it matched.
struct AcknowledgementUse {
  std::optional<std::string> id, rule;
  std::map<std::string, std::string> match;
  std::string reason;
  std::optional<std::string> until;
  bool expired = false;
  std::vector<std::string> findings;  // ids it matched; empty: it matches nothing (a typo?)
};

struct Gate {
  std::string status = "pass";  // "pass" | "fail" | "incomplete" (a target could not be examined)
  std::string fail_on = "never";
  std::vector<std::string> reasons;
  std::vector<std::string> notes;  // what the gate could not judge (rules whose probe never ran …)
  BaselineDiff baseline;
  std::vector<AcknowledgementUse> acknowledgements;
};

struct RunInfo {
  std::string started_at;  // RFC 3339 UTC
  double window_s = 0;
  double duration_ms = 0;
  bool replayed = false;
  bool interrupted = false;  // SIGINT/SIGTERM ended the window early: the report covers what was measured
};

// Which scaling lever the measurements call for (or warn against), judged after the ranking
// (src/core/advice.cpp). Ids are API: advice.do_not_scale_out, advice.scale_out,
// advice.connection_pooling, advice.cache, advice.read_replicas, advice.partitioning, advice.rate_limiting.
struct ExpectedGain {
  std::optional<double> share;  // 0..1 of `basis`, null when it cannot be measured
  std::string basis;            // "db_time", "connections", "active_sessions" …
  std::string summary;
};

struct Advice {
  std::string id;     // the lever's advice id
  std::string lever;  // "connection_pooling", "cache" …
  std::string component;
  std::string title;
  std::string detail;
  json evidence = json::object();  // the numbers behind it (units in key names)
  ExpectedGain expected_gain;
  std::vector<std::string> preconditions;
  double confidence = 0;                 // 0..1
  std::vector<std::string> measured_by;  // where the numbers come from
  json thresholds = json::object();      // {name: {value, unit, source}}
  std::optional<std::string> config;     // a configuration or SQL sketch, when there is one
  std::string target;
};

// One instance a fleet source (--prometheus) examined: a pod's container, a node, a database, a
// cache, a pool, an HTTP dependency. Its findings carry `target` = `name`.
struct FleetInstance {
  std::string name;  // "pod shop/checkout-7d9f8-abcde/app", "postgres 10.0.0.7:9187" …
  std::string kind;  // container | host | postgres | redis | pgbouncer | http
  std::map<std::string, std::string> labels;  // the series' identifying labels
  std::optional<Category> category;           // its worst finding's category; none: no finding
  std::optional<Severity> severity;           // its worst finding's severity
  std::vector<std::string> findings;          // ids, worst first
  std::string top;                            // its worst finding's title
};

// What a fleet source examined and how (src/core/fleet.cpp fills the per-instance judgement).
struct Fleet {
  std::string source;  // the redacted URL(s) of the query API
  std::string at;      // RFC 3339 end of the judged window
  double range_s = 0;  // the PromQL range each expression aggregated over
  int queries = 0;     // queries sent (bounded: independent of the number of instances)
  std::vector<FleetInstance> instances;                 // worst first
  std::vector<std::string> not_examined;                // families (and why) not judged

  // Instances whose worst finding is of category `c`; nullopt: those without a finding (fleet.cpp).
  size_t instances_of(std::optional<Category> c) const;
};

struct Report {
  RunInfo run;
  std::vector<TargetRef> targets;
  std::vector<ProbeResult> probes;
  Verdict verdict;
  std::vector<RankEntry> ranking;
  std::vector<Finding> findings;
  std::vector<Advice> advice;
  std::vector<Metric> metrics;
  json breakdowns = json::array();  // per-route time tables (traces), rendered as tables
  std::vector<Series> series;       // what live probes sampled through the window
  Gate gate;
  std::optional<Fleet> fleet;  // present when a fleet source (--prometheus) was examined
};

}  // namespace cp
