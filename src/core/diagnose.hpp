// collect -> judge -> rank: the run itself, independent of the command line.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/settings.hpp"
#include "probes/probe.hpp"

namespace cp {

// What the collectors returned: everything a later `--replay` needs to judge again. Targets keep
// only their redacted names: an evidence file never holds a secret.
struct Evidence {
  RunInfo run;
  struct Entry {
    Target target;
    Collected collected;
    double duration_ms = 0;
  };
  std::vector<Entry> entries;
};

// Reports progress while the window runs (stderr in the CLI).
using ProgressFn = std::function<void(double elapsed_s, double window_s, size_t running, size_t total)>;

// Whether any target waits for the window (offline inputs such as trace files do not).
bool any_live(const std::vector<Target>& targets);
// The window the run waits: the one asked for, none when no target is live.
double effective_window(const std::vector<Target>& targets, double window_s);

// Runs every collector concurrently over one shared window. Never throws for a target's failure:
// that is the probe's status.
// `interrupted` (set by a signal handler) ends the window early: the collectors take their end
// readings and the evidence is marked interrupted.
// `reader_threads`: what offline readers parse on (0: the CPUs this process may use).
Evidence collect_evidence(const std::vector<Target>& targets, double window_s, unsigned reader_threads,
                          const Settings& settings, const ProgressFn& progress = {},
                          const std::atomic<bool>* interrupted = nullptr);

nlohmann::json evidence_to_json(const Evidence& ev);
Evidence evidence_from_json(const nlohmann::json& doc);  // throws UsageError

// Judges the evidence with the rules, applies rule levels / severity overrides, ranks.
Report judge_evidence(const Evidence& ev, const Settings& settings);

}  // namespace cp
