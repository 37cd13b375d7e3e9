#include "probes/postgres/probe.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "probes/postgres/collector.hpp"
#include "probes/postgres/rules.hpp"
#include "util/conninfo.hpp"
#include "util/sql.hpp"

namespace cp {

namespace {

std::string describe_postgres_target(const std::string&, const std::vector<std::string>& specs,
                                     std::vector<std::string>& secrets) {
  std::string error;
  auto name = pg::conninfo_display_name(specs.front(), secrets, error);
  if (!name) throw UsageError("--postgres: not a PostgreSQL connection string: " + error);
  return *name;
}

// The collector stores safe texts only; evidence written by an older chokepoint (or by hand) is
// made safe again before any rule can quote it.
void keep_texts_safe(pg::Snapshot& snap) {
  for (auto& st : snap.statements) st.query = statement_text_for_output(st.query);
  for (auto& sample : snap.activity)
    for (auto& ses : sample.sessions) ses.query = statement_text_for_output(ses.query);
}

// The same on a snapshot read back from evidence (kept as JSON: nothing else of it changes).
void keep_snapshot_texts_safe(nlohmann::json& snapshot) {
  auto make_safe = [](nlohmann::json& holder) {
    auto q = holder.find("query");
    if (holder.is_object() && q != holder.end() && q->is_string())
      *q = statement_text_for_output(q->get<std::string>());
  };
  auto each = [&](nlohmann::json& parent, const char* key, const auto& fn) {
    auto it = parent.find(key);
    if (it != parent.end() && it->is_array())
      for (auto& x : *it) fn(x);
  };
  if (!snapshot.is_object()) return;
  each(snapshot, "statements", make_safe);
  each(snapshot, "activity", [&](nlohmann::json& sample) {
    if (sample.is_object()) each(sample, "sessions", make_safe);
  });
}

// Client backends by state through the window (pg_stat_activity samples).
std::vector<Series> sessions_series(const pg::Snapshot& snap) {
  if (snap.window_s <= 0 || snap.activity.empty()) return {};
  std::vector<Series> out;
  auto add = [&](const char* state, int pg::ActivitySample::*count) {
    Series s{"pg.sessions", "sessions", {{"state", state}}, {}};
    for (const auto& a : snap.activity) s.points.emplace_back(a.t_s, a.*count);
    out.push_back(std::move(s));
  };
  add("total", &pg::ActivitySample::total);
  add("active", &pg::ActivitySample::active);
  add("idle_in_transaction", &pg::ActivitySample::idle_in_transaction);
  add("waiting_lock", &pg::ActivitySample::waiting_lock);
  return out;
}

Judgement judge_postgres_snapshot(const nlohmann::json& snapshot, const Target& target,
                                  const Settings& settings) {
  auto snap = snapshot.get<pg::Snapshot>();
  keep_texts_safe(snap);
  Judgement j = pg::judge(snap, target, settings);
  j.series = sessions_series(snap);
  // Connect samples that failed leave db.no_connection_pooling without its measurement: say so.
  if (!snap.connect.error.empty())
    j.notes.push_back(fmt::format("{} connect sample(s) succeeded; the others failed: {}",
                                  snap.connect.connect_ms.size(), snap.connect.error));
  return j;
}

}  // namespace

ProbeKind postgres_probe() {
  return {
      "postgres",
      {{"--postgres", "DSN", "a PostgreSQL server (libpq URI or key=value string)"}},
      {Category::database},
      true,
      describe_postgres_target,
      pg::collect,
      judge_postgres_snapshot,
      pg::rule_declarations(),
      {{"explain_top", 20}, {"sample_interval_ms", 200}, {"connect_samples", 3}},
      {"statements", "tables"},
      keep_snapshot_texts_safe,
  };
}

}  // namespace cp
