// The probe interface. A probe is a folder under probes/ (collector = I/O, snapshot = data,
// rules = pure judgement) plus one line in registry.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/crosscheck.hpp"
#include "core/lever_inputs.hpp"
#include "core/model.hpp"
#include "core/rule_spec.hpp"
#include "core/settings.hpp"

namespace cp {

// A target as given on the command line. `specs` may hold a secret and never leave the process;
// `name` is the redacted form every output uses.
struct Target {
  std::string kind;  // probe name
  std::string flag;  // the flag it came from ("--pid", "--cgroup", …)
  // What the flag named: one value, or every use of a gathering flag (all --traces files).
  std::vector<std::string> specs;
  std::string name;
  std::vector<std::string> secrets;  // scrubbed from every message the probe returns
  // Values of the flags that modify this kind's targets (TargetFlag::modifies), in the order given:
  // {"--match", "{namespace=\"shop\"}"}. Like `specs`, never kept beyond collection.
  std::vector<std::pair<std::string, std::string>> options;

  // The one value of a flag that does not gather.
  const std::string& spec() const { return specs.front(); }
};

struct CollectContext {
  double window_s = 10;  // 0 = one snapshot of cumulative counters
  unsigned threads = 1;  // what offline readers may parse on (--threads; the usable CPUs by default)
  std::chrono::steady_clock::time_point window_end;
  const Settings* settings = nullptr;
  const std::atomic<bool>* interrupted = nullptr;  // SIGINT/SIGTERM: the window ends now

  // The run's settings; the defaults when none were given.
  const Settings& config() const;
  // A collection option of `probe`: [probes.PROBE] NAME from the config, else the default the
  // probe declares (ProbeKind::options), the only place a default is written.
  double option(std::string_view probe, std::string_view name) const;

  // No window: one snapshot of cumulative counters.
  bool cumulative() const { return window_s <= 0; }
  // The window a collector measured over: from `started` (its start readings) to now; 0 without one.
  double measured_window(std::chrono::steady_clock::time_point started) const;

  // Whether the window still runs (not over, not interrupted).
  bool window_open() const;
  // SIGINT/SIGTERM arrived: work after the window (plans, drains) stops so the run ends promptly.
  bool was_interrupted() const { return interrupted && interrupted->load(); }
  // Sleeps until `t` (at most the window's end), waking early when the run is interrupted.
  void sleep_until(std::chrono::steady_clock::time_point t) const;
};

// What a collector returns: its status and the raw snapshot (JSON of the probe's snapshot struct).
struct Collected {
  ProbeStatus status = ProbeStatus::ok;
  std::string message;
  nlohmann::json snapshot = nlohmann::json::object();  // the probe's snapshot struct as JSON
};

// What a probe's rules return from a snapshot.
struct Judgement {
  std::vector<Finding> findings;
  std::vector<Metric> metrics;
  std::vector<std::string> notes;
  json breakdowns = json::array();
  std::vector<Series> series;  // samples taken through the window, as time series
  // Measured share of request time per category (traces); empty when the probe cannot measure it.
  std::map<Category, double> attribution;
  // 0..1: how much of the data its rules need the probe had (1 = enough to call it healthy), and
  // why it is less.
  double measured = 1;
  std::string too_little;
  // Measurements the scaling advice reads (src/core/advice.cpp); empty when the probe has none.
  LeverInputs levers;
  // A fleet source's instances and what it could not examine (src/core/fleet.cpp judges them).
  std::optional<Fleet> fleet;
  // What other probes' findings may rest on: statement timings, process stalls (reconcile.cpp).
  CrossCheck crosscheck;
};

// What the registry reads of a probe's rule table (see `Rule` below).
struct RuleDeclarations {
  std::vector<RuleSpec> declared;        // rules this probe declares (each id is declared by one probe)
  std::vector<std::string_view> judged;  // every rule it judges: its own and those declared elsewhere
  std::vector<GatedMetric> gated;        // its metrics the gate compares against a baseline

  bool judges(std::string_view id) const;
  // The same rules and metrics, all declared by another probe (a probe that reuses another's rules).
  RuleDeclarations judged_only() const;
};

struct TargetFlag {
  std::string_view flag;        // "--postgres"
  std::string_view value_name;  // "DSN"; empty for a flag without a value
  std::string_view help;
  // Every use of the flag is one input of a single target (a trace's spans may be spread over
  // several files), not a target each.
  bool gathers = false;
  // Not a target: a setting of every target of this kind (--match, --prometheus-header).
  bool modifies = false;
  // A modifier whose value after the first ':' is a secret (a header's value).
  bool secret_value = false;
  // Checks a modifier's value; throws UsageError when it cannot be one.
  std::function<void(const std::string&)> check = {};
};

struct ProbeKind {
  std::string_view name;
  std::vector<TargetFlag> flags;
  std::vector<Category> examines;
  bool live;  // waits for the window (false: offline input such as trace files)
  // Redacted display name; adds any secret found in `specs` to `secrets`. Throws UsageError on
  // inputs that cannot be a target of this kind. `specs` holds one value unless the flag gathers.
  std::function<std::string(const std::string& flag, const std::vector<std::string>& specs,
                            std::vector<std::string>& secrets)>
      describe;
  std::function<Collected(const Target&, const CollectContext&)> collect;
  std::function<Judgement(const nlohmann::json& snapshot, const Target&, const Settings&)> judge;
  RuleDeclarations rules;  // from the table in the probe's rules file
  // Collection knobs a config file may set for this probe, with defaults (documented in its README).
  std::map<std::string, double, std::less<>> options;
  // Snapshot sections without which its rules would judge nothing (and call it healthy): replayed
  // evidence that lacks one is refused.
  std::vector<std::string_view> required_sections = {};
  // Makes texts in a snapshot read back from evidence safe again (statement texts normalized and
  // redacted as the collector stores them): evidence from an older chokepoint, or written by hand,
  // is saved again (--replay … --save-evidence) only as this leaves it. Empty: nothing to redo.
  std::function<void(nlohmann::json& snapshot)> keep_texts_safe = {};
};

// Calls `sample(seconds since the call)` every `interval_s` until the window ends (once for a zero
// window) or `wants_more` says it has enough: the sampling loop every live collector shares.
void sample_through_window(const CollectContext& ctx, double interval_s,
                           const std::function<void(double)>& sample,
                           const std::function<bool()>& wants_more = {});

// A probe's option in milliseconds (CollectContext::option), as seconds, never below `min_ms`.
double interval_option(const CollectContext& ctx, std::string_view probe, std::string_view option,
                       double min_ms);

// The default `probe` declares for its option `name`; throws std::logic_error when it declares none.
double declared_option(std::string_view probe, std::string_view name);

// One row of a probe's rule table: the rule's declaration (id, category, what fires it, fix,
// thresholds with their sources, evidence keys) and the pure function that judges it from the probe's
// input `In`. A rule several probes judge is declared by one of them; the others name it with
// `declared_elsewhere`.
template <typename In>
struct Rule {
  RuleSpec spec;
  std::vector<Finding> (*judge)(In&, const RuleParams&);
  bool declared_here = true;
};

template <typename In>
Rule<In> declared_elsewhere(std::string_view id, std::vector<Finding> (*judge)(In&, const RuleParams&)) {
  return {RuleSpec{id, {}, {}, {}, {}, {}}, judge, false};
}

// Runs every rule of the table the configuration leaves on, in the table's order (the order findings
// are reported in when they tie).
template <typename In>
void judge_rules(Judgement& j, const Settings& settings, const std::vector<Rule<In>>& table,
                 std::type_identity_t<In>& in) {
  for (const auto& rule : table) {
    if (!settings.enabled(rule.spec.id)) continue;
    for (auto& f : rule.judge(in, settings.params(rule.spec.id))) j.findings.push_back(std::move(f));
  }
}

template <typename In>
RuleDeclarations declarations(const std::vector<Rule<In>>& table, std::vector<GatedMetric> gated = {}) {
  RuleDeclarations d;
  for (const auto& rule : table) {
    if (rule.declared_here) d.declared.push_back(rule.spec);
    d.judged.push_back(rule.spec.id);
  }
  d.gated = std::move(gated);
  return d;
}

// A ProbeKind::judge for a probe whose snapshot is `Snapshot`: its rules (`Judge`), then the time
// series it sampled through the window (`SeriesOf`).
template <typename Snapshot, auto Judge, auto SeriesOf>
Judgement judge_with_series(const nlohmann::json& snapshot, const Target& target, const Settings& settings) {
  auto snap = snapshot.get<Snapshot>();
  Judgement j = Judge(snap, target, settings);
  j.series = SeriesOf(snap);
  return j;
}

const std::vector<ProbeKind>& probe_kinds();
const ProbeKind* find_probe_kind(std::string_view name);
// A metric the gate compares, as the probe that reports it declares it; nullptr for the others.
const GatedMetric* find_gated_metric(std::string_view name);

}  // namespace cp
