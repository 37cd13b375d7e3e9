// db.slow_query's judgement of one statement, the same function for every probe that measures
// statements: pg_stat_statements (postgres) and client spans (traces, otlp). Given the same numbers
// over the same window, both probes give the same severity (issue #23: a 200 ms scan from one
// client over 10 s was "info" from PostgreSQL's statistics and "medium" from the traces).
#pragma once

#include <optional>

#include "core/model.hpp"
#include "core/rule_spec.hpp"

namespace cp {

// One statement as a probe measured it.
struct StatementLoad {
  double calls = 0;
  double total_ms = 0;          // execution time (server) or span time (client), summed
  double db_time_share = 0;     // of all statement time the probe measured
  double db_busy_ms_per_s = 0;  // all statement time per second of the time base; 0 = unknown
  double window_s = 0;          // the window the counts cover; 0 = one snapshot of cumulative counters
  double mean_ms() const { return calls > 0 ? total_ms / calls : 0; }
  // The statement's busy time per second of the window: a time share of one connection.
  double busy_ms_per_s() const { return window_s > 0 ? total_ms / window_s : 0; }
};

struct SlowQueryGrade {
  bool slow = false;                 // slow per call, over enough of the window (or enough cumulative calls)
  bool dominant = false;             // holds a dominant share of a busy enough database's time
  std::optional<Severity> severity;  // nullopt: no finding
};

// Thresholds (db.slow_query): a mean of min_mean_ms counts once the statement ran min_calls times in
// cumulative statistics (PgHero), or in a window once its busy time reached min_busy_ms_per_s of
// the window (a time share any client reaches, however slow its calls). Slow and dominant: high;
// slow, or dominant and slow per call: medium; dominant but fast: info (where to optimize first).
SlowQueryGrade grade_slow_query(const StatementLoad& s, const RuleParams& p);

}  // namespace cp
