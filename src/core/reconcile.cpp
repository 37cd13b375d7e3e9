#include "core/reconcile.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "probes/request_cost.hpp"
#include "util/format.hpp"

namespace cp {

namespace {

// A client's mean counts as inflated from twice the server's and 1 ms more: below that, driver and
// loopback overhead explain the difference.
constexpr double kInflatedRatio = 2.0;
constexpr double kInflatedMinMs = 1.0;
// Calls each side needs before its mean is compared.
constexpr double kMinCalls = 5;

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Statement text and its datastore: the key both views of one statement share.
using StatementId = std::pair<std::string, std::string>;

// The client's mean beside the server's, and where the difference went.
struct Gap {
  const StatementTime* client = nullptr;
  StatementTime server;  // summed over the datastore targets that saw it
  const ProcessStall* stall = nullptr;
  bool stall_by_elimination = false;
  std::string client_probe, server_probe;
  double ratio() const { return client->mean_ms() > 0 ? server.mean_ms() / client->mean_ms() : 1; }
  double excess_ms() const { return (client->mean_ms() - server.mean_ms()) * client->calls; }
};

bool same_process(const ProcessIdentity& a, const ProcessIdentity& b) {
  if (!a.container.empty() && a.container == b.container) return true;
  if (a.pid.empty() || a.pid != b.pid) return false;
  return a.host.empty() || b.host.empty() || a.host == b.host;
}

// The stall of the process that issued the client's calls: by pid (and host) or container; when the
// spans say nothing of their process and one process was watched, that one.
void find_stall(Gap& g, const std::vector<ProbeView>& views) {
  std::vector<const ProcessStall*> stalls;
  for (const auto& v : views)
    for (const auto& s : v.check.stalls) stalls.push_back(&s);
  for (const auto* s : stalls)
    if (same_process(g.client->process, s->process)) {
      g.stall = s;
      return;
    }
  // By elimination: every stall is of one watched process (throttled and its host saturated, say).
  if (g.client->process.known() || stalls.empty()) return;
  auto same = [&](const ProcessStall* s) {
    const auto& a = s->process;
    const auto& b = stalls.front()->process;
    return a.pid == b.pid && a.host == b.host && a.container == b.container;
  };
  if (!std::all_of(stalls.begin(), stalls.end(), same)) return;
  g.stall = *std::max_element(stalls.begin(), stalls.end(),
                              [](const ProcessStall* a, const ProcessStall* b) { return a->share < b->share; });
  g.stall_by_elimination = true;
}

std::vector<Gap> find_gaps(const std::vector<ProbeView>& views) {
  std::map<StatementId, StatementTime> server;
  std::map<StatementId, std::string> server_probe;
  for (const auto& v : views)
    for (const auto& st : v.check.statements) {
      if (!st.server) continue;
      StatementId id{datastore_family(st.datastore), statement_key(st.statement)};
      StatementTime& sum = server[id];
      sum.calls += st.calls;
      sum.total_ms += st.total_ms;
      sum.statement = st.statement;
      server_probe.emplace(id, v.probe + " " + v.target);
    }
  std::vector<Gap> out;
  for (const auto& v : views)
    for (const auto& st : v.check.statements) {
      if (st.server || st.calls < kMinCalls) continue;
      StatementId id{datastore_family(st.datastore), statement_key(st.statement)};
      auto it = server.find(id);
      if (it == server.end() || it->second.calls < kMinCalls) continue;
      double client = st.mean_ms(), at_server = it->second.mean_ms();
      if (client < kInflatedRatio * at_server || client - at_server < kInflatedMinMs) continue;
      Gap g{&st, it->second, nullptr, false, v.probe, server_probe[id]};
      find_stall(g, views);
      out.push_back(g);
    }
  return out;
}

std::string where_spent(const Gap& g) {
  if (!g.stall)
    return "in the calling process, the network or a wait for a pooled connection (no host probe watched "
           "the process that issued it)";
  std::string who = g.stall->process.pid.empty() ? "the watched process" : "pid " + g.stall->process.pid;
  return fmt::format("in {}, whose CPU was held back {} of the window ({}{})", who,
                     percent(g.stall->share), g.stall->cause,
                     g.stall_by_elimination ? "; the spans name no process: the one process watched" : "");
}

// One threshold the finding was judged against, when it lists it.
std::optional<double> threshold(const Finding& f, std::string_view name) {
  auto it = f.thresholds.find(std::string(name));
  if (it == f.thresholds.end() || !it->is_object() || !it->contains("value")) return std::nullopt;
  return (*it)["value"].get<double>();
}

// The finding's thresholds as a rule's parameters (request_cost_severity reads them by name).
struct FindingThresholds {
  const Finding& f;
  double operator[](std::string_view name) const { return threshold(f, name).value_or(0); }
};

// A per-request cost restated with the server's share of the time: lower, never higher.
void restate_cost(Finding& f, double ratio) {
  auto& ev = f.evidence;
  if (ev.contains("time_per_request_ms") && ev["time_per_request_ms"].is_number()) {
    double ms = ev["time_per_request_ms"].get<double>() * ratio;
    double share = ev.value("request_share", 0.0) * ratio;
    ev["time_per_request_ms"] = round_to(ms, 3);
    if (ev.contains("request_share")) ev["request_share"] = round_to(share, 4);
    // Only a per-request cost rule lists the family's thresholds; another finding's severity stands.
    if (threshold(f, "critical_total_ms"))
      f.severity = std::min(f.severity, request_cost_severity(ms, share, FindingThresholds{f}));
  }
  if (f.impact.share) f.impact.share = round_to(*f.impact.share * ratio, 4);
}

// Statement and datastore a finding is about, when it is about one.
std::optional<StatementId> statement_of(const Finding& f) {
  auto q = f.evidence.find("query");
  if (q == f.evidence.end() || !q->is_string()) return std::nullopt;
  std::string store = f.evidence.value("datastore", f.probe == "postgres" ? "postgresql" : "");
  return StatementId{datastore_family(store), statement_key(q->get<std::string>())};
}

// The dependency a network finding is about (the --http probe and the traces both name its host).
std::optional<StatementId> endpoint_of(const Finding& f) {
  auto h = f.evidence.find("host");
  if (f.category != Category::network || h == f.evidence.end() || !h->is_string() || h->empty())
    return std::nullopt;
  std::string host = h->get<std::string>();
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return StatementId{"endpoint", host};
}

// What a finding is about, for findings of several probes to be set side by side: its statement, or
// the endpoint it calls.
std::optional<StatementId> subject_of(const Finding& f) {
  if (auto s = statement_of(f)) return s;
  return endpoint_of(f);
}

bool is_client_probe(const Finding& f) { return f.probe == "traces" || f.probe == "otlp"; }

void erase_marked(std::vector<Finding>& findings, const std::vector<bool>& drop) {
  std::vector<Finding> kept;
  for (size_t i = 0; i < findings.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(findings[i]));
  findings = std::move(kept);
}

void add_note(Report& r, const std::string& probe, const std::string& target, std::string note) {
  for (auto& p : r.probes)
    if (p.name == probe && p.target == target) {
      p.notes.push_back(std::move(note));
      return;
    }
}

}  // namespace

std::string statement_key(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    bool param = (c == '$' || c == ':') && i + 1 < text.size() && is_word(text[i + 1]) &&
                 (i == 0 || (!is_word(text[i - 1]) && text[i - 1] != ':')) &&
                 !(c == ':' && text[i + 1] == ':');
    if (param) {
      while (i + 1 < text.size() && is_word(text[i + 1])) ++i;
      out += '?';
      continue;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

std::string datastore_family(std::string_view system) {
  std::string s(system);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "postgres" || s == "pg" || s == "postgresql") return "postgresql";
  if (s == "mariadb" || s == "mysql") return "mysql";
  return s;
}

namespace {

// Client findings on an inflated statement: both numbers as evidence; withdrawn when the server's
// time alone would not have fired the rule, restated otherwise.
void restate_findings(Report& r, const std::vector<Gap>& gaps) {
  std::map<StatementId, const Gap*> by_id;
  for (const auto& g : gaps)
    by_id[{datastore_family(g.client->datastore), statement_key(g.client->statement)}] = &g;
  std::vector<Finding> kept;
  for (auto& f : r.findings) {
    auto id = statement_of(f);
    auto it = id ? by_id.find(*id) : by_id.end();
    if (it == by_id.end() || f.probe != it->second->client_probe) {
      kept.push_back(std::move(f));
      continue;
    }
    const Gap& g = *it->second;
    f.evidence["client_mean_ms"] = round_to(g.client->mean_ms(), 3);
    f.evidence["server_mean_ms"] = round_to(g.server.mean_ms(), 3);
    f.evidence["server_calls"] = g.server.calls;
    f.evidence["server_measured_by"] = g.server_probe;
    f.evidence["elsewhere_ms_per_call"] = round_to(g.client->mean_ms() - g.server.mean_ms(), 3);
    if (g.stall) f.evidence["elsewhere_finding"] = g.stall->finding_id;
    std::string account = fmt::format(
        "{} measured {} per call over {} calls, the client spans {}: {} per call was spent {}.", g.server_probe,
        human_ms(g.server.mean_ms()), human_count(g.server.calls), human_ms(g.client->mean_ms()),
        human_ms(g.client->mean_ms() - g.server.mean_ms()), where_spent(g));
    auto min_mean = threshold(f, "min_mean_ms");
    if (f.rule == "db.slow_query" && min_mean && g.server.mean_ms() < *min_mean) {
      add_note(r, f.probe, f.target,
               fmt::format("{} withdrawn ({}): {}", f.rule, one_line(f.title, 90), account));
      continue;
    }
    restate_cost(f, g.ratio());
    f.detail += (f.detail.empty() ? "" : " ") + account;
    kept.push_back(std::move(f));
  }
  r.findings = std::move(kept);
}

// The time moved out of the datastore: off its attribution, onto infrastructure when a stalled
// process issued the calls; the stall's finding says which statements it slowed.
void move_attribution(Report& r, const std::vector<Gap>& gaps, const std::vector<ProbeView>& views,
                      std::map<Category, double>& attribution) {
  double attributed = 0;
  for (const auto& v : views) attributed = std::max(attributed, v.check.attributed_ms);
  if (attributed <= 0) return;
  double moved = 0, stalled = 0;
  for (const auto& g : gaps) {
    moved += g.excess_ms();
    if (g.stall) stalled += g.excess_ms();
    if (!g.stall) continue;
    for (auto& f : r.findings)
      if (f.id == g.stall->finding_id) {
        json& slowed = f.evidence["slowed_statements"];
        if (!slowed.is_array()) slowed = json::array();
        slowed.push_back({{"query", one_line(g.client->statement, 200)},
                          {"client_mean_ms", round_to(g.client->mean_ms(), 3)},
                          {"server_mean_ms", round_to(g.server.mean_ms(), 3)},
                          {"calls", g.client->calls}});
      }
  }
  if (auto db = attribution.find(Category::database); db != attribution.end())
    db->second = std::max(0.0, db->second - moved / attributed);
  if (stalled > 0) {
    double& infra = attribution[Category::infrastructure];
    infra = std::max(infra, std::min(1.0, stalled / attributed));
  }
}

// The same rule about the same statement or endpoint from several probes: one finding, the most
// severe (the datastore's or the --http probe's own on a tie), each probe's view in `seen_by`.
void merge_same_facts(Report& r) {
  std::map<std::pair<std::string, StatementId>, std::vector<size_t>> groups;
  for (size_t i = 0; i < r.findings.size(); ++i)
    if (auto id = subject_of(r.findings[i])) groups[{r.findings[i].rule, *id}].push_back(i);
  std::vector<bool> drop(r.findings.size(), false);
  for (auto& [key, members] : groups) {
    std::vector<size_t> probes_seen;
    for (size_t i : members)
      if (std::none_of(probes_seen.begin(), probes_seen.end(),
                       [&](size_t k) { return r.findings[k].probe == r.findings[i].probe; }))
        probes_seen.push_back(i);
    if (probes_seen.size() < 2) continue;
    auto first = *std::max_element(probes_seen.begin(), probes_seen.end(), [&](size_t a, size_t b) {
      const Finding &x = r.findings[a], &y = r.findings[b];
      if (x.severity != y.severity) return x.severity < y.severity;
      return !is_client_probe(x) < !is_client_probe(y);
    });
    Finding& primary = r.findings[first];
    primary.seen_by.push_back({primary.probe, primary.target, primary.id, primary.rule, primary.severity,
                               primary.evidence});
    for (size_t i : probes_seen) {
      if (i == first) continue;
      const Finding& other = r.findings[i];
      primary.seen_by.push_back({other.probe, other.target, other.id, other.rule, other.severity, other.evidence});
      drop[i] = true;
    }
  }
  erase_marked(r.findings, drop);
}

// Every statement or endpoint a finding is about: its own, and the statements an index would serve.
std::vector<StatementId> statements_of(const Finding& f) {
  std::vector<StatementId> out;
  if (auto id = subject_of(f)) out.push_back(*id);
  if (auto st = f.evidence.find("statements"); st != f.evidence.end() && st->is_array())
    for (const auto& s : *st)
      if (s.is_object() && s.contains("query") && s["query"].is_string())
        out.push_back({"postgresql", statement_key(s["query"].get<std::string>())});
  return out;
}

// A slow query the spans saw on a statement another probe's missing index explains is that finding's
// fact seen from the client (the postgres probe folds its own slow query into it the same way): one
// finding, the index, with the client's view in `seen_by`.
void fold_explained_slow_queries(Report& r) {
  std::vector<bool> drop(r.findings.size(), false);
  for (size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& slow = r.findings[i];
    auto id = slow.rule == "db.slow_query" && is_client_probe(slow) ? statement_of(slow) : std::nullopt;
    if (!id) continue;
    for (auto& index : r.findings) {
      if (index.rule != "db.missing_index" || is_client_probe(index)) continue;
      auto served = statements_of(index);
      if (std::find(served.begin(), served.end(), *id) == served.end()) continue;
      if (index.seen_by.empty())
        index.seen_by.push_back({index.probe, index.target, index.id, index.rule, index.severity, index.evidence});
      index.seen_by.push_back({slow.probe, slow.target, slow.id, slow.rule, slow.severity, slow.evidence});
      drop[i] = true;
      break;
    }
  }
  erase_marked(r.findings, drop);
}

// Findings of different rules about one statement or endpoint name each other.
void link_related(Report& r) {
  std::vector<std::vector<StatementId>> keys;
  for (const auto& f : r.findings) keys.push_back(statements_of(f));
  for (size_t a = 0; a < r.findings.size(); ++a)
    for (size_t b = 0; b < r.findings.size(); ++b) {
      if (a == b || r.findings[a].rule == r.findings[b].rule) continue;
      bool shared = std::any_of(keys[a].begin(), keys[a].end(), [&](const StatementId& k) {
        return std::find(keys[b].begin(), keys[b].end(), k) != keys[b].end();
      });
      if (shared) r.findings[a].related.push_back(r.findings[b].id);
    }
}

}  // namespace

namespace {

// A fleet source (postgres_exporter) knows a statement by its queryid only; when a --postgres probe
// of the same run read that queryid's text, the fleet's finding takes it, so both are one fact.
void adopt_statement_texts(Report& r) {
  std::map<int64_t, std::string> texts;
  for (const auto& f : r.findings)
    if (f.probe == "postgres" && f.evidence.contains("queryid") && f.evidence["queryid"].is_number_integer() &&
        f.evidence.contains("query") && f.evidence["query"].is_string())
      texts.emplace(f.evidence["queryid"].get<int64_t>(), f.evidence["query"].get<std::string>());
  for (auto& f : r.findings) {
    if (f.probe != "prometheus" || !f.evidence.contains("queryid") || !f.evidence["queryid"].is_number_integer())
      continue;
    auto it = texts.find(f.evidence["queryid"].get<int64_t>());
    if (it == texts.end() || !f.evidence.contains("query") || !f.evidence["query"].is_string()) continue;
    std::string stand_in = f.evidence["query"].get<std::string>();
    auto replace = [&](std::string& text) {
      if (auto at = text.find(stand_in); at != std::string::npos) text.replace(at, stand_in.size(), one_line(it->second, 100));
    };
    replace(f.title);
    replace(f.detail);
    f.evidence["query"] = it->second;
    f.evidence["datastore"] = "postgresql";
  }
}

}  // namespace

void reconcile(Report& r, const std::vector<ProbeView>& views, std::map<Category, double>& attribution) {
  adopt_statement_texts(r);
  std::vector<Gap> gaps = find_gaps(views);
  if (!gaps.empty()) {
    move_attribution(r, gaps, views, attribution);
    restate_findings(r, gaps);
  }
  merge_same_facts(r);
  fold_explained_slow_queries(r);
  link_related(r);
}

}  // namespace cp
