#include "probes/postgres/session_rules.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "probes/postgres/sql_shape.hpp"
#include "util/format.hpp"

namespace cp::pg {

double setting_number(const Snapshot& s, const std::string& name) {
  auto it = s.settings.find(name);
  return it == s.settings.end() ? 0 : std::atof(it->second.c_str());
}

namespace {

template <typename K>
K most_common(const std::map<K, int>& counts) {
  K best{};
  int n = -1;
  for (const auto& [k, c] : counts)
    if (c > n) {
      best = k;
      n = c;
    }
  return best;
}

const Session* find_session(const ActivitySample& sample, int pid) {
  for (const auto& s : sample.sessions)
    if (s.pid == pid) return &s;
  return nullptr;
}

struct LockGroup {
  double waiter_samples = 0;  // sum over samples of sessions waiting on this relation
  int max_waiting = 0;
  int samples_with_waits = 0;
  std::set<int> waiters;
  double max_wait_s = 0;
  std::map<std::string, int> wait_events, waiting_queries, blocking_queries, blocking_states;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double average(const std::vector<ActivitySample>& samples, int ActivitySample::*field) {
  if (samples.empty()) return 0;
  double sum = 0;
  for (const auto& s : samples) sum += s.*field;
  return sum / static_cast<double>(samples.size());
}

int peak(const std::vector<ActivitySample>& samples, int ActivitySample::*field) {
  int out = 0;
  for (const auto& s : samples) out = std::max(out, s.*field);
  return out;
}

// The relation a lock waiter waits on: from pg_locks, else the statement, else the wait event.
std::string waited_relation(const Session& ses) {
  std::string relation = ses.relation.substr(0, ses.relation.find(','));
  if (relation.empty()) relation = statement_relation(ses.query);
  if (relation.empty()) relation = "(" + ses.wait_event + ")";
  return relation;
}

void add_waiter(LockGroup& g, const Session& ses, const ActivitySample& sample) {
  g.waiters.insert(ses.pid);
  g.max_wait_s = std::max(g.max_wait_s, ses.query_age_s);
  ++g.wait_events[ses.wait_event];
  ++g.waiting_queries[ses.query];
  for (int blocker : ses.blocked_by) {
    const Session* b = find_session(sample, blocker);
    ++g.blocking_queries[b ? b->query : "(not visible)"];
    ++g.blocking_states[b ? b->state : "unknown"];
  }
}

// Sessions waiting on a lock, grouped by the relation they wait on, over the samples.
std::map<std::string, LockGroup> lock_groups(const std::vector<ActivitySample>& samples) {
  std::map<std::string, LockGroup> groups;
  for (const auto& sample : samples) {
    std::map<std::string, int> waiting_here;
    for (const auto& ses : sample.sessions) {
      if (ses.wait_event_type != "Lock") continue;
      std::string relation = waited_relation(ses);
      LockGroup& g = groups[relation];
      ++waiting_here[relation];
      add_waiter(g, ses, sample);
    }
    for (const auto& [relation, n] : waiting_here) {
      LockGroup& g = groups[relation];
      g.waiter_samples += n;
      g.max_waiting = std::max(g.max_waiting, n);
      ++g.samples_with_waits;
    }
  }
  return groups;
}

std::string lock_remediation(const std::string& blocking_state) {
  return blocking_state.rfind("idle in transaction", 0) == 0
             ? "The blockers are idle inside their transactions: the application holds row locks while it "
               "does "
               "something else. Commit before slow work; set idle_in_transaction_session_timeout."
             : "Shorten the transactions that update these rows (nothing slow between the UPDATE and "
               "COMMIT), "
               "update hot rows last, or spread them (SKIP LOCKED queues, batched counters).";
}

// How many sessions wait on one relation on average, and their share of the active sessions.
struct LockWaiting {
  double avg_waiting = 0, share_of_active = 0;
};

Finding lock_finding(const Workload& w, const RuleParams& p, const std::string& relation, const LockGroup& g,
                     const LockWaiting& lw) {
  const auto& samples = w.snap->activity;
  double n = static_cast<double>(samples.size());
  Finding f = p.make_finding(w.snap->database + "/" + relation);
  f.component = w.component;
  f.severity = lw.share_of_active >= p["critical_waiting_share"] ? Severity::critical
               : lw.share_of_active >= p["high_waiting_share"]   ? Severity::high
                                                                 : Severity::medium;
  std::string blocking_query = most_common(g.blocking_queries);
  std::string blocking_state = most_common(g.blocking_states);
  std::string waiting_query = most_common(g.waiting_queries);
  f.title = fmt::format("Lock contention on {}: {:.1f} sessions wait on average ({} of active sessions)",
                        relation, lw.avg_waiting, percent(lw.share_of_active));
  f.detail = fmt::format(
      "{} waits ({}) behind sessions that are '{}' running {}; {} distinct sessions waited, up to {} at "
      "once, "
      "the longest for {:.1f} s; waits were seen in {} of {:.0f} samples.",
      one_line(waiting_query, 120), most_common(g.wait_events), blocking_state, one_line(blocking_query, 120),
      g.waiters.size(), g.max_waiting, g.max_wait_s, g.samples_with_waits, n);
  f.impact = {round_to(lw.share_of_active, 4), "sessions"};
  f.evidence = {{"relation", relation},
                {"waiting_query", waiting_query},
                {"blocking_query", blocking_query},
                {"blocking_state", blocking_state},
                {"lock_wait_event", most_common(g.wait_events)},
                {"avg_waiting_sessions", round_to(lw.avg_waiting, 2)},
                {"max_waiting_sessions", g.max_waiting},
                {"waiting_sessions", g.waiters.size()},
                {"max_wait_s", round_to(g.max_wait_s, 3)},
                {"samples_with_waits", g.samples_with_waits},
                {"samples", samples.size()},
                {"waiting_share_of_active", round_to(lw.share_of_active, 4)}};
  f.remediation.summary = lock_remediation(blocking_state);
  return f;
}

}  // namespace

double usable_connections(const Snapshot& s) {
  return setting_number(s, "max_connections") - setting_number(s, "superuser_reserved_connections") -
         setting_number(s, "reserved_connections");
}

std::vector<Finding> lock_contention(const Workload& w, const RuleParams& p) {
  const auto& samples = w.snap->activity;
  if (samples.empty()) return {};
  double n = static_cast<double>(samples.size());
  double avg_active = average(samples, &ActivitySample::active);
  std::vector<Finding> out;
  for (const auto& [relation, g] : lock_groups(samples)) {
    double avg_waiting = g.waiter_samples / n;
    double samples_share = g.samples_with_waits / n;
    if (avg_waiting < p["min_avg_waiting_sessions"] || samples_share < p["min_waiting_samples_share"])
      continue;
    double share_of_active = std::min(1.0, avg_waiting / std::max(avg_active, 1.0));
    out.push_back(lock_finding(w, p, relation, g, {avg_waiting, share_of_active}));
  }
  return out;
}

std::vector<Finding> connection_saturation(const Workload& w, const RuleParams& p) {
  const auto& samples = w.snap->activity;
  double usable = usable_connections(*w.snap);
  if (samples.empty() || usable <= 0) return {};
  int connections_peak = peak(samples, &ActivitySample::total);
  double usage = connections_peak / usable;
  if (usage < p["max_connection_usage"]) return {};
  Finding f = p.make_finding(w.snap->database + "/max_connections");
  f.component = w.component;
  f.severity = usage >= p["critical_connection_usage"] ? Severity::critical : Severity::high;
  f.title = fmt::format("Connections at {} of max_connections ({} of {} usable): new clients will be refused",
                        percent(usage), connections_peak, usable);
  f.detail =
      fmt::format("Peak {} client connections, {:.1f} on average, {:.1f} of them active.", connections_peak,
                  average(samples, &ActivitySample::total), average(samples, &ActivitySample::active));
  f.impact = {round_to(std::min(usage, 1.0), 4), "connections"};
  f.evidence = {{"database", w.snap->database},
                {"connections_peak", connections_peak},
                {"connections_avg", round_to(average(samples, &ActivitySample::total), 2)},
                {"max_connections", setting_number(*w.snap, "max_connections")},
                {"usable_connections", usable},
                {"connection_usage", round_to(usage, 4)}};
  f.remediation.summary =
      "Most of these connections are idle: put PgBouncer (transaction mode) in front and size its pool to "
      "the "
      "active demand, rather than raising max_connections (each connection costs memory and snapshot work).";
  return {f};
}

namespace {

// New connections against transactions, and what one connection spends connecting.
struct ConnectionChurn {
  double sessions = 0, per_xact = 0, per_s = 0, xacts_per_session = 0;
  std::optional<double> connect_ms, mean_xact_ms, connect_share;
};

ConnectionChurn connection_churn(const Workload& w, double sessions) {
  ConnectionChurn c;
  c.sessions = sessions;
  c.per_xact = sessions / w.xacts;
  c.per_s = sessions / w.time_base_s;
  const ConnectTiming& ct = w.snap->connect;
  if (!ct.connect_ms.empty()) c.connect_ms = median(ct.connect_ms);
  // Mean transaction time from the database's own accounting (PostgreSQL 14+).
  double busy_ms = w.counter_delta("active_time") + w.counter_delta("idle_in_transaction_time");
  if (busy_ms > 0) c.mean_xact_ms = busy_ms / w.xacts;
  // What one connection did with its life: connecting vs its transactions.
  c.xacts_per_session = w.xacts / sessions;
  if (c.connect_ms && c.mean_xact_ms)
    c.connect_share = *c.connect_ms / (*c.connect_ms + c.xacts_per_session * *c.mean_xact_ms);
  return c;
}

std::string pooling_title(const ConnectionChurn& c) {
  return c.connect_share ? fmt::format(
                               "No connection pooling: a new connection every {:.1f} transactions, and "
                               "connecting is {} of each connection's time",
                               c.xacts_per_session, percent(*c.connect_share))
                         : fmt::format("No connection pooling: a new connection every {:.1f} transactions",
                                       c.xacts_per_session);
}

std::string pooling_detail(const Workload& w, const ConnectionChurn& c) {
  const ConnectTiming& ct = w.snap->connect;
  return fmt::format(
      "{} sessions for {} transactions in {:.1f} s ({:.0f} new connections per second, {:.1f} transactions "
      "each). Connecting and authenticating takes {}{} while a transaction takes {}.",
      human_count(c.sessions), human_count(w.xacts), w.time_base_s, c.per_s, c.xacts_per_session,
      c.connect_ms ? human_ms(*c.connect_ms) : "an unmeasured time",
      ct.tcp_ms ? fmt::format(" (TCP handshake {})", human_ms(*ct.tcp_ms)) : "",
      c.mean_xact_ms ? human_ms(*c.mean_xact_ms) : "an unknown time");
}

json pooling_evidence(const Workload& w, const ConnectionChurn& c, int peak_active) {
  auto opt = [](const std::optional<double>& v, int d) { return v ? json(round_to(*v, d)) : json(nullptr); };
  return {{"database", w.snap->database},
          {"sessions", c.sessions},
          {"xacts", w.xacts},
          {"sessions_per_xact", round_to(c.per_xact, 3)},
          {"xacts_per_session", round_to(c.xacts_per_session, 2)},
          {"sessions_per_s", round_to(c.per_s, 2)},
          {"connect_ms", opt(c.connect_ms, 3)},
          {"tcp_connect_ms", opt(w.snap->connect.tcp_ms, 3)},
          {"tls", w.snap->connect.tls},
          {"mean_xact_ms", opt(c.mean_xact_ms, 3)},
          {"connect_share", opt(c.connect_share, 4)},
          {"peak_active_sessions", peak_active},
          {"max_connections", setting_number(*w.snap, "max_connections")}};
}

// A PgBouncer configuration sized to the active sessions seen, within the server's connections.
std::string pgbouncer_config(const Snapshot& s, int peak_active) {
  double usable = usable_connections(s);
  int pool_size =
      static_cast<int>(std::clamp(std::ceil(peak_active * 1.5), 5.0, std::max(5.0, usable * 0.8)));
  return fmt::format(
      "; pgbouncer.ini\n[databases]\n{0} = host=DB_HOST port=5432 dbname={0}\n\n[pgbouncer]\npool_mode = "
      "transaction\ndefault_pool_size = {1}\nreserve_pool_size = {2}\nmax_client_conn = "
      "{3}\nmax_db_connections = "
      "{4}\nserver_idle_timeout = 600",
      s.database, pool_size, std::max(1, pool_size / 4), std::max(1000, peak_active * 20),
      static_cast<int>(std::max(usable * 0.9, 1.0)));
}

}  // namespace

std::vector<Finding> no_connection_pooling(const Workload& w, const RuleParams& p) {
  double sessions = w.counter_delta("sessions");
  if (w.xacts < 20 || sessions <= 0 || w.time_base_s <= 0) return {};
  ConnectionChurn churn = connection_churn(w, sessions);
  if (churn.per_xact < p["min_sessions_per_xact"] || churn.per_s < p["min_sessions_per_s"]) return {};
  int peak_active = peak(w.snap->activity, &ActivitySample::active);

  Finding f = p.make_finding(w.snap->database);
  f.component = w.component;
  f.severity = churn.connect_share && *churn.connect_share >= p["high_connect_share"] ? Severity::high
                                                                                      : Severity::medium;
  f.title = pooling_title(churn);
  f.detail = pooling_detail(w, churn);
  f.impact = {churn.connect_share ? std::optional<double>(round_to(*churn.connect_share, 4)) : std::nullopt,
              "xact_time"};
  f.evidence = pooling_evidence(w, churn, peak_active);
  f.remediation.summary = fmt::format(
      "Pool connections: PgBouncer in transaction mode in front of this server, with a pool sized to the "
      "peak "
      "of {} concurrently active sessions seen (or the driver's own pool, kept open across requests).",
      peak_active);
  f.remediation.config = pgbouncer_config(*w.snap, peak_active);
  return {f};
}

std::vector<Finding> idle_in_transaction(const Workload& w, const RuleParams& p) {
  const auto& samples = w.snap->activity;
  if (samples.empty()) return {};
  std::set<int> idle_pids;
  double max_idle = 0, max_xact = 0;
  bool blocks_others = false;
  std::map<std::string, int> queries, apps;
  for (const auto& sample : samples) {
    std::set<int> blockers;
    for (const auto& ses : sample.sessions) blockers.insert(ses.blocked_by.begin(), ses.blocked_by.end());
    for (const auto& ses : sample.sessions) {
      if (ses.state.rfind("idle in transaction", 0) != 0 || ses.state_age_s < p["min_idle_s"]) continue;
      idle_pids.insert(ses.pid);
      max_idle = std::max(max_idle, ses.state_age_s);
      max_xact = std::max(max_xact, ses.xact_age_s);
      ++queries[ses.query];
      ++apps[ses.application_name];
      blocks_others = blocks_others || blockers.count(ses.pid);
    }
  }
  if (idle_pids.empty()) return {};
  double avg = average(samples, &ActivitySample::idle_in_transaction);
  Finding f = p.make_finding(w.snap->database + "/" + most_common(apps));
  f.component = w.component;
  f.severity = blocks_others                  ? Severity::high
               : max_idle >= p["high_idle_s"] ? Severity::medium
                                              : Severity::low;
  f.title = fmt::format("{} session{} idle inside open transactions for up to {:.1f} s{}", idle_pids.size(),
                        idle_pids.size() == 1 ? "" : "s", max_idle, blocks_others ? ", blocking others" : "");
  f.detail = fmt::format(
      "Last statement before going idle: {}. Transactions up to {:.1f} s old; {:.1f} sessions idle in a "
      "transaction on average. An open transaction keeps its locks and holds back vacuum.",
      one_line(most_common(queries), 160), max_xact, avg);
  f.impact = {std::nullopt, "sessions"};
  f.evidence = {{"database", w.snap->database},
                {"sessions", idle_pids.size()},
                {"avg_sessions", round_to(avg, 2)},
                {"max_idle_s", round_to(max_idle, 3)},
                {"max_xact_age_s", round_to(max_xact, 3)},
                {"last_query", most_common(queries)},
                {"application_name", most_common(apps)},
                {"blocks_others", blocks_others}};
  f.remediation.summary =
      "Commit or roll back before slow application work; set idle_in_transaction_session_timeout (e.g. 60s) "
      "so "
      "a forgotten transaction cannot hold locks forever.";
  return {f};
}

}  // namespace cp::pg
