#include "probes/pgbouncer/rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "probes/pgbouncer/levers.hpp"
#include "probes/sources.hpp"
#include "util/format.hpp"

namespace cp::pgb {

namespace {

const Row* find_row(const std::vector<Row>& rows, const std::string& column, const std::string& value) {
  for (const auto& r : rows)
    if (text(r, column) == value) return &r;
  return nullptr;
}

// The pool's database in SHOW STATS: deltas of the total_* counters (microseconds), or PgBouncer's
// own recent averages when there was no window. PgBouncer counts a client's wait for a server
// inside xact_time and query_time; the wait is taken out so the times say how long a server
// connection actually worked.
void add_stats(const Snapshot& s, PoolLoad& p) {
  const Row* end = find_row(s.stats_end, "database", p.database);
  if (!end) return;
  const Row* start = find_row(s.stats_start, "database", p.database);
  auto delta = [&](const char* total, const char* avg) {
    return start ? number(*end, total) - number(*start, total) : number(*end, avg);
  };
  p.xacts = delta("total_xact_count", "avg_xact_count");
  p.queries = delta("total_query_count", "avg_query_count");
  // Window 0: PgBouncer's averages are already per transaction / per query.
  double per_xact = start ? p.xacts : 1, per_query = start ? p.queries : 1;
  double wait_us = delta("total_wait_time", "avg_wait_time");
  if (p.xacts > 0) {
    p.avg_xact_ms = std::max(0.0, delta("total_xact_time", "avg_xact_time") - wait_us) / per_xact / 1000;
    p.wait_per_xact_ms = wait_us / per_xact / 1000;
  }
  if (p.queries > 0)
    p.avg_query_ms = std::max(0.0, delta("total_query_time", "avg_query_time") - wait_us) / per_query / 1000;
}

double pool_size_of(const Snapshot& s, const std::string& database) {
  if (const Row* db = find_row(s.databases, "name", database); db && number(*db, "pool_size") > 0)
    return number(*db, "pool_size");
  auto it = s.config.find("default_pool_size");
  return it == s.config.end() ? 0 : std::atof(it->second.c_str());
}

std::string pool_name(const PoolLoad& p) {
  return p.database + "/" + p.user;
}

json pool_evidence(const PoolLoad& p) {
  auto opt = [](const std::optional<double>& v) { return v ? json(round_to(*v, 3)) : json(nullptr); };
  return {{"database", p.database},
          {"user", p.user},
          {"pool", pool_name(p)},
          {"pool_mode", p.pool_mode},
          {"pool_size", p.pool_size},
          {"avg_clients_waiting", round_to(p.avg_waiting, 2)},
          {"max_clients_waiting", p.max_waiting},
          {"avg_clients_active", round_to(p.avg_active, 2)},
          {"avg_servers_active", round_to(p.avg_servers_active, 2)},
          {"maxwait_ms", round_to(p.maxwait_ms, 1)},
          {"wait_per_xact_ms", opt(p.wait_per_xact_ms)},
          {"avg_xact_ms", opt(p.avg_xact_ms)},
          {"avg_query_ms", opt(p.avg_query_ms)},
          {"queries_per_xact", p.xacts > 0 ? json(round_to(p.queries / p.xacts, 2)) : json(nullptr)}};
}

// Time a transaction holds its server connection vs the time its statements run there.
std::optional<double> xact_to_query_ratio(const PoolLoad& p) {
  if (!p.avg_xact_ms || !p.avg_query_ms || p.xacts <= 0 || *p.avg_query_ms <= 0) return std::nullopt;
  double statements_ms = *p.avg_query_ms * (p.queries / p.xacts);
  return statements_ms > 0 ? *p.avg_xact_ms / statements_ms : std::optional<double>();
}

Finding long_transactions(const PoolLoad& p, double ratio, const RuleParams& params,
                          const std::string& component) {
  Finding f = params.make_finding(pool_name(p));
  f.component = component;
  f.title = fmt::format(
      "The application holds transactions open: {} per transaction for {} of statements, "
      "while clients wait for the {} pool",
      human_ms(*p.avg_xact_ms), human_ms(*p.avg_xact_ms / ratio), pool_name(p));
  f.detail = fmt::format(
      "Statements are fast ({} each, {:.1f} per transaction) but each transaction keeps its server "
      "connection "
      "{:.0f}x longer than they run: the rest is the application's own time between statements. Meanwhile "
      "{:.1f} clients wait for a connection on average ({} each).",
      human_ms(*p.avg_query_ms), p.queries / p.xacts, ratio, p.avg_waiting,
      p.wait_per_xact_ms ? human_ms(*p.wait_per_xact_ms) : "?");
  f.impact = {round_to(1 - 1 / ratio, 4), "xact_time"};
  json ev = pool_evidence(p);
  f.evidence = {{"database", p.database},
                {"user", p.user},
                {"pool", pool_name(p)},
                {"avg_xact_ms", ev["avg_xact_ms"]},
                {"avg_query_ms", ev["avg_query_ms"]},
                {"queries_per_xact", ev["queries_per_xact"]},
                {"xact_to_query_ratio", round_to(ratio, 2)},
                {"idle_share", round_to(1 - 1 / ratio, 4)},
                {"avg_clients_waiting", ev["avg_clients_waiting"]},
                {"wait_per_xact_ms", ev["wait_per_xact_ms"]}};
  f.remediation.summary =
      "Move the application's slow work (external calls, rendering, computation) out of the transaction: "
      "BEGIN "
      "just before the statements that must be atomic, COMMIT right after. A bigger pool would only hide it.";
  return f;
}

Finding pool_saturation(const PoolLoad& p, const RuleParams& params, const std::string& component,
                        bool caused_by_application) {
  Finding f = params.make_finding(pool_name(p));
  f.component = component;
  double demand = p.avg_active + p.avg_waiting;
  double suggested = std::ceil(std::max(p.pool_size + 1, demand * 1.2));
  double wait = p.wait_per_xact_ms.value_or(0);
  double work = p.avg_xact_ms.value_or(0);
  if (caused_by_application)
    f.severity = Severity::low;  // the code.long_transactions finding carries the diagnosis
  else
    f.severity = work > 0 && wait >= params["critical_wait_to_xact_ratio"] * work ? Severity::critical
                 : work > 0 && wait >= params["high_wait_to_xact_ratio"] * work   ? Severity::high
                                                                                  : Severity::medium;
  f.title =
      fmt::format("PgBouncer pool {} is saturated: {:.1f} clients wait for its {:.0f} server connections",
                  pool_name(p), p.avg_waiting, p.pool_size);
  f.detail = fmt::format(
      "{:.1f} clients waiting on average (up to {:.0f}), oldest wait {}; each transaction waits {} for a "
      "server "
      "connection and then runs {} ({} per statement).{}",
      p.avg_waiting, p.max_waiting, human_ms(p.maxwait_ms), p.wait_per_xact_ms ? human_ms(wait) : "?",
      p.avg_xact_ms ? human_ms(work) : "?", p.avg_query_ms ? human_ms(*p.avg_query_ms) : "?",
      caused_by_application ? " The transactions are long because the application holds them open (see "
                              "code.long_transactions), not because the database is slow."
                            : "");
  double share = work + wait > 0 ? wait / (work + wait) : 0;
  f.impact = {round_to(share, 4), "xact_time"};
  f.evidence = pool_evidence(p);
  f.remediation.summary = fmt::format(
      "Demand is about {:.0f} concurrent transactions for {:.0f} server connections: raise this pool's size "
      "to "
      "about {:.0f} if PostgreSQL has the connections and CPU for it (max_connections, cores), otherwise "
      "make "
      "the transactions cheaper.",
      demand, p.pool_size, suggested);
  f.remediation.config =
      fmt::format("; pgbouncer.ini, [databases]\n{} = ... pool_size={:.0f}", p.database, suggested);
  return f;
}

// The pools of one snapshot, and which of them the application holds (code.long_transactions
// fired): their saturation is then the application's, not the pool size's.
struct Pools {
  std::vector<PoolLoad> loads;
  std::set<size_t> held_by_application;
};

bool saturated(const PoolLoad& p, const RuleParams& params) {
  return p.avg_waiting >= params["min_avg_clients_waiting"] || p.maxwait_ms >= params["max_wait_ms"];
}

std::string component_of(const PoolLoad& p) {
  return "pgbouncer:" + p.database;
}

std::vector<Finding> judge_long_transactions(Pools& pools, const RuleParams& params) {
  std::vector<Finding> out;
  for (size_t i = 0; i < pools.loads.size(); ++i) {
    const PoolLoad& p = pools.loads[i];
    auto ratio = xact_to_query_ratio(p);
    if (!saturated(p, params) || !ratio || *ratio < params["min_xact_to_query_ratio"] || !p.avg_query_ms ||
        *p.avg_query_ms > params["max_query_ms"])
      continue;
    pools.held_by_application.insert(i);
    out.push_back(long_transactions(p, *ratio, params, component_of(p)));
  }
  return out;
}

std::vector<Finding> judge_pool_saturation(Pools& pools, const RuleParams& params) {
  std::vector<Finding> out;
  for (size_t i = 0; i < pools.loads.size(); ++i)
    if (saturated(pools.loads[i], params))
      out.push_back(pool_saturation(pools.loads[i], params, component_of(pools.loads[i]),
                                    pools.held_by_application.count(i) > 0));
  return out;
}

// The PgBouncer rules: code.long_transactions is declared here, db.pool_saturation by the postgres
// probe. The application's long transactions are judged first: they explain a saturated pool.
const std::vector<Rule<Pools>>& rule_table() {
  static const std::vector<Rule<Pools>> table = {
      {{"code.long_transactions",
        Category::code,
        "clients wait for pooled connections while the transactions holding them are much longer than their "
        "statements: the application keeps transactions open between queries",
        "Keep transactions to the statements that need them: do external calls, rendering and computation "
        "before BEGIN or after COMMIT; in ORMs, avoid transaction-per-request middleware around slow views.",
        {
            {"min_xact_to_query_ratio", 5, "ratio", "transaction time / time of its statements",
             sources::kChokepoint},
            {"max_query_ms", 20, "ms", "mean statement time below which the database is not the slow part",
             sources::kPgHero},
            {"min_avg_clients_waiting", 0.5, "clients",
             "PgBouncer clients waiting, averaged over the samples (as db.pool_saturation)",
             sources::kChokepoint},
            {"max_wait_ms", 1000, "ms", "or PgBouncer maxwait (as db.pool_saturation)",
             sources::kPgBouncerDocs},
        },
        {"database", "user", "pool", "avg_xact_ms", "avg_query_ms", "queries_per_xact", "xact_to_query_ratio",
         "idle_share", "avg_clients_waiting", "wait_per_xact_ms"},
        Severity::high},
       judge_long_transactions},
      declared_elsewhere<Pools>("db.pool_saturation", judge_pool_saturation),
  };
  return table;
}

}  // namespace

std::vector<PoolLoad> pool_loads(const Snapshot& s) {
  std::map<std::pair<std::string, std::string>, PoolLoad> pools;
  double samples = static_cast<double>(s.pool_samples.size());
  for (const auto& sample : s.pool_samples)
    for (const auto& row : sample.pools) {
      std::string db = text(row, "database"), user = text(row, "user");
      if (db == "pgbouncer") continue;  // the admin console itself
      PoolLoad& p = pools[{db, user}];
      p.database = db;
      p.user = user;
      p.pool_mode = text(row, "pool_mode");
      double waiting = number(row, "cl_waiting");
      p.avg_waiting += waiting / samples;
      p.max_waiting = std::max(p.max_waiting, waiting);
      p.avg_active += number(row, "cl_active") / samples;
      p.avg_servers_active += number(row, "sv_active") / samples;
      p.maxwait_ms = std::max(p.maxwait_ms, number(row, "maxwait") * 1000 + number(row, "maxwait_us") / 1000);
    }
  std::vector<PoolLoad> out;
  for (auto& [key, p] : pools) {
    if (auto own = s.own_clients.find(pool_name(p)); own != s.own_clients.end())
      p.avg_active = std::max(0.0, p.avg_active - own->second);  // chokepoint's session is not demand
    p.pool_size = pool_size_of(s, p.database);
    add_stats(s, p);
    out.push_back(p);
  }
  return out;
}

RuleDeclarations rule_declarations() {
  return declarations(rule_table(),
                      {{"pgbouncer.wait_per_xact_ms", +1, 2}, {"pgbouncer.maxwait_ms", +1, 10}});
}

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings) {
  Judgement j;
  Pools pools{pool_loads(s), {}};
  for (const auto& p : pools.loads) {
    std::map<std::string, std::string> labels = {{"target", target.name}, {"pool", pool_name(p)}};
    j.metrics.push_back({"pgbouncer.clients_waiting_avg", round_to(p.avg_waiting, 3), "clients", labels});
    j.metrics.push_back({"pgbouncer.maxwait_ms", round_to(p.maxwait_ms, 3), "ms", labels});
    if (p.wait_per_xact_ms)
      j.metrics.push_back({"pgbouncer.wait_per_xact_ms", round_to(*p.wait_per_xact_ms, 3), "ms", labels});
    if (p.avg_xact_ms) j.metrics.push_back({"pgbouncer.xact_ms", round_to(*p.avg_xact_ms, 3), "ms", labels});
  }
  judge_rules(j, settings, rule_table(), pools);
  j.levers.pgbouncer.push_back(bouncer_load(s, target.name));
  if (s.pool_samples.empty()) j.notes.push_back("no SHOW POOLS sample was taken");
  if (s.window_s <= 0)
    j.notes.push_back(
        "window 0: times are PgBouncer's own averages over its last stats_period, not a window");
  return j;
}

}  // namespace cp::pgb
