#include "probes/postgres/index_rules.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "probes/postgres/sql_shape.hpp"
#include "util/format.hpp"

namespace cp::pg {

namespace {

const Table* table_of(const Snapshot& s, const Index& ix) {
  for (const auto& t : s.tables)
    if (t.schema == ix.schema && t.name == ix.table) return &t;
  return nullptr;
}

// Indexes a DROP may concern: not a constraint's (unique, primary key, exclusion), valid, and not a
// partition's index attached to its parent's (that one is dropped with the parent's index).
bool droppable(const Index& ix) {
  return !ix.unique && !ix.primary && !ix.exclusion && ix.valid && !ix.attached;
}

bool plain_btree(const Index& ix) {
  return ix.method == "btree" && ix.valid && !ix.partial && !ix.attached && !ix.columns.empty() &&
         std::none_of(ix.columns.begin(), ix.columns.end(), [](const auto& c) { return c.empty(); });
}

bool is_desc(const Index& ix, const std::string& c) {
  return std::find(ix.desc.begin(), ix.desc.end(), c) != ix.desc.end();
}

// `a`'s key columns are the leading columns of `b`'s, in the same directions.
bool leading_prefix_of(const Index& a, const Index& b) {
  if (a.columns.size() > b.columns.size()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i)
    if (a.columns[i] != b.columns[i] || is_desc(a, a.columns[i]) != is_desc(b, b.columns[i])) return false;
  return true;
}

// The index that makes `a` redundant, if any. Of two identical indexes the one with the later name
// is reported (once), unless the other one is not droppable (a constraint's) anyway.
const Index* covering_index(const std::vector<Index>& indexes, const Index& a) {
  if (!plain_btree(a) || !droppable(a)) return nullptr;
  for (const auto& b : indexes) {
    if (&b == &a || b.schema != a.schema || b.table != a.table || !plain_btree(b)) continue;
    if (!leading_prefix_of(a, b)) continue;
    bool identical = a.columns.size() == b.columns.size();
    if (identical && droppable(b) && b.name > a.name) continue;
    return &b;
  }
  return nullptr;
}

std::string drop_sql(const Index& ix) {
  // PostgreSQL refuses DROP INDEX CONCURRENTLY on a partitioned table's index.
  return fmt::format("DROP INDEX {}{}.{};", ix.partitioned ? "" : "CONCURRENTLY ", quote_ident(ix.schema),
                     quote_ident(ix.name));
}

std::string age_text(const std::optional<double>& s) {
  if (!s) return "since the statistics were last reset";
  double days = *s / 86400;
  if (days >= 2) return fmt::format("in the {:.0f} days since the statistics were reset", days);
  return fmt::format("in the {} since the statistics were reset", human_ms(*s * 1000));
}

Finding index_finding(const Workload& w, const RuleParams& p, const Index& ix) {
  Finding f = p.make_finding(fmt::format("{}/{}.{}", w.snap->database, ix.schema, ix.name));
  f.component = w.component;
  f.impact = {std::nullopt, "writes"};
  f.remediation.sql = drop_sql(ix);
  return f;
}

}  // namespace

double table_writes_per_s(const Snapshot& s, const Table& t) {
  double base = s.window_s > 0 ? s.window_s : s.table_stats_age_s.value_or(0);
  return base > 0 ? t.writes() / base : 0;
}

std::vector<Finding> duplicate_index(const Workload& w, const RuleParams& p) {
  std::vector<Finding> out;
  const Snapshot& s = *w.snap;
  for (const auto& ix : s.indexes) {
    const Index* cover = covering_index(s.indexes, ix);
    if (!cover || ix.size_bytes < p["min_index_bytes"]) continue;
    const Table* t = table_of(s, ix);
    Finding f = index_finding(w, p, ix);
    std::string cols = fmt::format("{}", fmt::join(ix.columns, ", "));
    f.title = fmt::format("Duplicate index {} on {} ({}): {} already leads with the same columns", ix.name,
                          ix.table, cols, cover->name);
    f.detail = fmt::format(
        "{} ({}) is a leading prefix of {} ({}), which serves the same lookups and sorts. Every insert, "
        "delete and non-HOT update maintains both; {} of disk and cache go to the redundant one. Scans of "
        "it {}: {}.",
        ix.name, cols, cover->name, fmt::join(cover->columns, ", "), human_bytes(ix.size_bytes),
        age_text(s.table_stats_age_s), ix.idx_scan);
    f.evidence = {
        {"index", ix.name},
        {"table", ix.table},
        {"schema", ix.schema},
        {"columns", ix.columns},
        {"covering_index", cover->name},
        {"covering_columns", cover->columns},
        {"index_size_bytes", ix.size_bytes},
        {"index_scans", ix.idx_scan},
        {"stats_age_s", s.table_stats_age_s ? json(round_to(*s.table_stats_age_s, 0)) : json(nullptr)},
        {"table_writes_per_s", t ? json(round_to(table_writes_per_s(s, *t), 3)) : json(nullptr)}};
    f.remediation.summary = fmt::format(
        "Drop {} (the longer index {} serves its queries); CONCURRENTLY takes no lock that blocks reads or "
        "writes.",
        ix.name, cover->name);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> unused_index(const Workload& w, const RuleParams& p) {
  std::vector<Finding> out;
  const Snapshot& s = *w.snap;
  for (const auto& ix : s.indexes) {
    if (!droppable(ix) || ix.partitioned || ix.idx_scan > p["max_index_scans"]) continue;
    if (covering_index(s.indexes, ix)) continue;  // reported as a duplicate
    const Table* t = table_of(s, ix);
    if (!t) continue;
    double writes_per_s = table_writes_per_s(s, *t);
    if (writes_per_s < p["min_table_writes_per_s"]) continue;
    Finding f = index_finding(w, p, ix);
    std::string cols = fmt::format("{}", fmt::join(ix.columns, ", "));
    f.title = fmt::format("Index {} on {} ({}) was never scanned, and the table takes {} writes/s", ix.name,
                          ix.table, cols, round_to(writes_per_s, 1));
    f.detail = fmt::format(
        "{} had {} scans {}, while {} received {} row writes ({} inserts, {} updates, {} deletes): each "
        "insert, "
        "delete and non-HOT update maintains this {} index for nothing. \"Never\" covers only that period, "
        "and only this server: check replicas and rare jobs (month-end reports) before dropping it.",
        ix.name, ix.idx_scan, age_text(s.table_stats_age_s), ix.table, human_count(t->writes()),
        human_count(t->n_tup_ins), human_count(t->n_tup_upd), human_count(t->n_tup_del),
        human_bytes(ix.size_bytes));
    f.evidence = {
        {"index", ix.name},
        {"table", ix.table},
        {"schema", ix.schema},
        {"columns", ix.columns},
        {"index_size_bytes", ix.size_bytes},
        {"index_scans", ix.idx_scan},
        {"stats_age_s", s.table_stats_age_s ? json(round_to(*s.table_stats_age_s, 0)) : json(nullptr)},
        {"table_writes", t->writes()},
        {"table_writes_per_s", round_to(writes_per_s, 3)}};
    f.remediation.summary = fmt::format(
        "Drop {} if no replica or periodic job uses it (pg_stat_user_indexes.idx_scan there too); "
        "CONCURRENTLY "
        "takes no lock that blocks reads or writes.",
        ix.name);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace cp::pg
