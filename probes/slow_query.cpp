#include "probes/slow_query.hpp"

namespace cp {

SlowQueryGrade grade_slow_query(const StatementLoad& s, const RuleParams& p) {
  SlowQueryGrade g;
  if (s.calls <= 0) return g;
  double mean = s.mean_ms();
  bool slow_per_call = mean >= p["min_mean_ms"];
  // PgHero's call floor is for all-time statistics: in a window the statement's share of the
  // window's time stands for it, so one client with 200 ms calls reaches it as ten with 20 ms do.
  bool enough = s.window_s > 0 ? s.busy_ms_per_s() >= p["min_busy_ms_per_s"] : s.calls >= p["min_calls"];
  g.slow = slow_per_call && enough;
  g.dominant = s.db_time_share >= p["dominant_db_time_share"] &&
               (s.db_busy_ms_per_s <= 0 || s.db_busy_ms_per_s >= p["min_db_time_ms_per_s"]);
  if (g.slow && g.dominant)
    g.severity = Severity::high;
  else if (g.slow || (g.dominant && slow_per_call))
    g.severity = Severity::medium;
  else if (g.dominant)
    g.severity = Severity::info;
  return g;
}

}  // namespace cp
