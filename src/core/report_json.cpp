#include "core/report_json.hpp"

#include "chokepoint/version.hpp"
#include "core/error.hpp"
#include "util/format.hpp"
#include "util/redact.hpp"

namespace cp {

namespace {

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}
json optional_string(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}

json metric_to_json(const Metric& m) {
  json labels = json::object();
  for (const auto& [k, v] : m.labels) labels[k] = v;
  return {{"name", m.name}, {"value", m.value}, {"unit", m.unit}, {"labels", labels}};
}

json series_to_json(const Series& s) {
  json labels = json::object();
  for (const auto& [k, v] : s.labels) labels[k] = v;
  json points = json::array();
  for (const auto& [t, v] : s.points) points.push_back({round_to(t, 3), v});
  return {{"name", s.name}, {"unit", s.unit}, {"labels", labels}, {"points", points}};
}

Series series_from_json(const json& j) {
  Series s;
  s.name = j.value("name", "");
  s.unit = j.value("unit", "");
  const json labels = j.value("labels", json::object());
  for (const auto& [k, v] : labels.items())
    if (v.is_string()) s.labels[k] = v.get<std::string>();
  for (const auto& p : j.value("points", json::array()))
    if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number())
      s.points.emplace_back(p[0].get<double>(), p[1].get<double>());
  return s;
}

json verdict_to_json(const Verdict& v) {
  return {{"category", v.category ? std::string(to_string(*v.category)) : "none"},
          {"confidence", v.confidence},
          {"headline", v.headline}};
}

Verdict verdict_from_json(const json& j) {
  Verdict v;
  v.category = category_from_string(j.value("category", "none"));
  v.confidence = j.value("confidence", 0.0);
  v.headline = j.value("headline", "");
  return v;
}

json baseline_summary_to_json(const std::optional<BaselineSummary>& s) {
  if (!s) return nullptr;
  json ranking = json::array();
  for (const auto& e : s->ranking)
    ranking.push_back(
        {{"category", to_string(e.category)}, {"probability", e.probability}, {"examined", e.examined}});
  json findings = json::array();
  for (const auto& f : s->findings)
    findings.push_back({{"id", f.id},
                        {"rule", f.rule},
                        {"severity", to_string(f.severity)},
                        {"component", f.component},
                        {"title", f.title}});
  return {{"started_at", s->started_at},
          {"verdict", verdict_to_json(s->verdict)},
          {"ranking", ranking},
          {"findings", findings}};
}

template <typename T>
T required(const json& j, const char* key, const char* where) {
  if (!j.is_object() || !j.contains(key))
    throw UsageError(std::string("not a chokepoint report: ") + where + " has no \"" + key + "\"");
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw UsageError(std::string("not a chokepoint report: ") + where + "." + key + " has the wrong type");
  }
}

}  // namespace

json sightings_to_json(const std::vector<Sighting>& seen) {
  json out = json::array();
  for (const auto& v : seen)
    out.push_back({{"probe", v.probe},
                   {"target", v.target},
                   {"id", v.id},
                   {"rule", v.rule},
                   {"severity", to_string(v.severity)},
                   {"evidence", v.evidence}});
  return out;
}

std::vector<Sighting> sightings_from_json(const json& arr) {
  std::vector<Sighting> out;
  if (!arr.is_array()) return out;
  for (const auto& v : arr) {
    if (!v.is_object()) continue;
    Sighting s{v.value("probe", ""), redact_url(v.value("target", "")), v.value("id", ""), v.value("rule", ""),
               severity_from_string(v.value("severity", "info")).value_or(Severity::info),
               v.value("evidence", json::object())};
    out.push_back(std::move(s));
  }
  return out;
}

json finding_to_json(const Finding& f) {
  return {{"id", f.id},
          {"rule", f.rule},
          {"category", to_string(f.category)},
          {"severity", to_string(f.severity)},
          {"component", f.component},
          {"title", f.title},
          {"detail", f.detail},
          {"impact", {{"share", optional_number(f.impact.share)}, {"basis", f.impact.basis}}},
          {"evidence", f.evidence},
          {"remediation",
           {{"summary", f.remediation.summary},
            {"sql", optional_string(f.remediation.sql)},
            {"config", optional_string(f.remediation.config)}}},
          {"thresholds", f.thresholds},
          {"baseline", f.baseline.empty() ? json(nullptr) : json(f.baseline)},
          {"fails_gate", f.fails_gate},
          {"acknowledgement", f.acknowledgement ? json{{"reason", f.acknowledgement->reason},
                                                       {"until", optional_string(f.acknowledgement->until)},
                                                       {"expired", f.acknowledgement->expired}}
                                                : json(nullptr)},
          {"source", {{"probe", f.probe}, {"target", f.target}}},
          {"seen_by", sightings_to_json(f.seen_by)},
          {"related", f.related}};
}

json advice_to_json(const Advice& a) {
  return {{"id", a.id},
          {"lever", a.lever},
          {"component", a.component},
          {"title", a.title},
          {"detail", a.detail},
          {"evidence", a.evidence},
          {"expected_gain",
           {{"share", optional_number(a.expected_gain.share)},
            {"basis", a.expected_gain.basis},
            {"summary", a.expected_gain.summary}}},
          {"preconditions", a.preconditions},
          {"confidence", a.confidence},
          {"measured_by", a.measured_by},
          {"thresholds", a.thresholds},
          {"config", optional_string(a.config)},
          {"source", {{"target", a.target}}}};
}

namespace {

Advice advice_from_json(const json& ja) {
  Advice a;
  a.id = required<std::string>(ja, "id", "advice[]");
  a.lever = ja.value("lever", "");
  a.component = ja.value("component", "");
  a.title = ja.value("title", "");
  a.detail = ja.value("detail", "");
  a.evidence = ja.value("evidence", json::object());
  const json gain = ja.value("expected_gain", json::object());
  if (gain.contains("share") && gain["share"].is_number())
    a.expected_gain.share = gain["share"].get<double>();
  a.expected_gain.basis = gain.value("basis", "");
  a.expected_gain.summary = gain.value("summary", "");
  for (const auto& p : ja.value("preconditions", json::array()))
    if (p.is_string()) a.preconditions.push_back(p.get<std::string>());
  a.confidence = ja.value("confidence", 0.0);
  for (const auto& m : ja.value("measured_by", json::array()))
    if (m.is_string()) a.measured_by.push_back(m.get<std::string>());
  a.thresholds = ja.value("thresholds", json::object());
  if (ja.contains("config") && ja["config"].is_string()) a.config = ja["config"].get<std::string>();
  a.target = ja.value("source", json::object()).value("target", "");
  return a;
}

json probe_to_json(const ProbeResult& p) {
  return {{"name", p.name},       {"target", p.target},           {"status", to_string(p.status)},
          {"message", p.message}, {"duration_ms", p.duration_ms}, {"notes", p.notes}};
}

json rank_entry_to_json(const RankEntry& e) {
  return {{"category", to_string(e.category)},
          {"probability", e.probability},
          {"examined", e.examined},
          {"findings", e.findings},
          {"not_examined_reason", e.examined ? json(nullptr) : json(e.not_examined_reason)}};
}

json gate_to_json(const Report& r) {
  const auto& b = r.gate.baseline;
  json gate = {{"status", r.gate.status},
               {"fail_on", r.gate.fail_on},
               {"reasons", r.gate.reasons},
               {"notes", r.gate.notes},
               {"baseline",
                {{"file", optional_string(b.file)},
                 {"new", b.new_ids},
                 {"unchanged", b.unchanged_ids},
                 {"resolved", b.resolved_ids},
                 {"regressed", b.regressed_ids},
                 {"unverified", b.unverified_ids},
                 {"metric_changes", b.metric_changes},
                 {"resolved_findings", b.resolved_findings},
                 {"summary", baseline_summary_to_json(b.summary)}}},
               {"acknowledgements", json::array()}};
  for (const auto& a : r.gate.acknowledgements) {
    json match = json::object();
    for (const auto& [k, v] : a.match) match[k] = v;
    gate["acknowledgements"].push_back({{"id", optional_string(a.id)},
                                        {"rule", optional_string(a.rule)},
                                        {"match", match},
                                        {"reason", a.reason},
                                        {"until", optional_string(a.until)},
                                        {"expired", a.expired},
                                        {"findings", a.findings}});
  }
  return gate;
}

Finding finding_from_json(const json& jf) {
  Finding f;
  f.id = required<std::string>(jf, "id", "findings[]");
  f.rule = required<std::string>(jf, "rule", "findings[]");
  auto cat = category_from_string(required<std::string>(jf, "category", "findings[]"));
  auto sev = severity_from_string(required<std::string>(jf, "severity", "findings[]"));
  if (!cat || !sev)
    throw UsageError("not a chokepoint report: finding " + f.id + " has an unknown category or severity");
  f.category = *cat;
  f.severity = *sev;
  // A report read back is shown again (compare): what it says passes the same redaction.
  f.component = redact_urls_in_text(jf.value("component", ""));
  f.title = redact_urls_in_text(jf.value("title", ""));
  f.detail = redact_urls_in_text(jf.value("detail", ""));
  if (jf.contains("impact") && jf["impact"].is_object()) {
    const auto& im = jf["impact"];
    if (im.contains("share") && im["share"].is_number()) f.impact.share = im["share"].get<double>();
    f.impact.basis = im.value("basis", "");
  }
  f.evidence = jf.value("evidence", json::object());
  f.thresholds = jf.value("thresholds", json::object());
  const json source = jf.value("source", json::object());
  f.probe = source.value("probe", "");
  f.target = redact_url(source.value("target", ""));
  if (jf.contains("remediation") && jf["remediation"].is_object()) {
    const auto& rem = jf["remediation"];
    f.remediation.summary = rem.value("summary", "");
    if (rem.contains("sql") && rem["sql"].is_string()) f.remediation.sql = rem["sql"].get<std::string>();
    if (rem.contains("config") && rem["config"].is_string())
      f.remediation.config = rem["config"].get<std::string>();
  }
  f.seen_by = sightings_from_json(jf.value("seen_by", json::array()));
  for (const auto& id : jf.value("related", json::array()))
    if (id.is_string()) f.related.push_back(id.get<std::string>());
  if (jf.contains("acknowledgement") && jf["acknowledgement"].is_object()) {
    const auto& ack = jf["acknowledgement"];
    FindingAcknowledgement a{ack.value("reason", ""), std::nullopt, ack.value("expired", false)};
    if (ack.contains("until") && ack["until"].is_string()) a.until = ack["until"].get<std::string>();
    f.acknowledgement = std::move(a);
  }
  return f;
}

Metric metric_from_json(const json& jm) {
  Metric m;
  m.name = required<std::string>(jm, "name", "metrics[]");
  m.value = required<double>(jm, "value", "metrics[]");
  m.unit = jm.value("unit", "");
  const json labels = jm.value("labels", json::object());
  for (const auto& [k, v] : labels.items())
    if (v.is_string()) m.labels[k] = v.get<std::string>();
  return m;
}

ProbeResult probe_from_json(const json& jp) {
  ProbeResult p;
  p.name = jp.value("name", "");
  p.target = redact_url(jp.value("target", ""));
  p.status = jp.value("status", "ok") == "ok" ? ProbeStatus::ok : ProbeStatus::error;
  p.message = redact_urls_in_text(jp.value("message", ""));
  p.duration_ms = jp.value("duration_ms", 0.0);
  for (const auto& n : jp.value("notes", json::array()))
    if (n.is_string()) p.notes.push_back(n.get<std::string>());
  return p;
}

std::optional<RankEntry> rank_entry_from_json(const json& je) {
  RankEntry e;
  auto cat = category_from_string(je.value("category", ""));
  if (!cat) return std::nullopt;  // a category a newer chokepoint knows
  e.category = *cat;
  e.probability = je.value("probability", 0.0);
  e.examined = je.value("examined", false);
  for (const auto& id : je.value("findings", json::array()))
    if (id.is_string()) e.findings.push_back(id.get<std::string>());
  if (je.contains("not_examined_reason") && je["not_examined_reason"].is_string())
    e.not_examined_reason = je["not_examined_reason"].get<std::string>();
  return e;
}

json fleet_to_json(const Fleet& f) {
  json instances = json::array();
  for (const auto& i : f.instances)
    instances.push_back({{"name", i.name},
                         {"kind", i.kind},
                         {"labels", i.labels},
                         {"category", i.category ? json(to_string(*i.category)) : json(nullptr)},
                         {"severity", i.severity ? json(to_string(*i.severity)) : json(nullptr)},
                         {"findings", i.findings},
                         {"top", i.top}});
  json by_category = json::object();
  for (Category c : kCategories) by_category[std::string(to_string(c))] = f.instances_of(c);
  return {{"source", f.source},           {"at", f.at},
          {"range_s", f.range_s},         {"queries", f.queries},
          {"instances_examined", f.instances.size()},
          {"instances_by_category", by_category},
          {"not_examined", f.not_examined}, {"instances", instances}};
}

Fleet fleet_from_json(const json& j) {
  Fleet f;
  f.source = redact_url(j.value("source", ""));
  f.at = j.value("at", "");
  f.range_s = j.value("range_s", 0.0);
  f.queries = j.value("queries", 0);
  for (const auto& n : j.value("not_examined", json::array()))
    if (n.is_string()) f.not_examined.push_back(n.get<std::string>());
  for (const auto& ji : j.value("instances", json::array())) {
    FleetInstance i;
    i.name = ji.value("name", "");
    i.kind = ji.value("kind", "");
    // Named: items() of a temporary would outlive it (the range-for keeps only the proxy alive).
    const json labels = ji.value("labels", json::object());
    if (labels.is_object())
      for (const auto& [k, v] : labels.items())
        if (v.is_string()) i.labels[k] = v.get<std::string>();
    if (ji.contains("category") && ji["category"].is_string()) i.category = category_from_string(ji["category"].get<std::string>());
    if (ji.contains("severity") && ji["severity"].is_string()) i.severity = severity_from_string(ji["severity"].get<std::string>());
    for (const auto& id : ji.value("findings", json::array()))
      if (id.is_string()) i.findings.push_back(id.get<std::string>());
    i.top = ji.value("top", "");
    f.instances.push_back(std::move(i));
  }
  return f;
}

}  // namespace

json report_to_json(const Report& r) {
  json doc;
  doc["schema_version"] = kSchemaVersion;
  doc["tool"] = {{"name", "chokepoint"}, {"version", kVersion}};
  doc["run"] = {{"started_at", r.run.started_at},
                {"window_s", r.run.window_s},
                {"duration_ms", r.run.duration_ms},
                {"replayed", r.run.replayed},
                {"interrupted", r.run.interrupted}};
  doc["targets"] = json::array();
  for (const auto& t : r.targets) doc["targets"].push_back({{"kind", t.kind}, {"name", t.name}});
  doc["probes"] = json::array();
  for (const auto& p : r.probes) doc["probes"].push_back(probe_to_json(p));
  doc["verdict"] = verdict_to_json(r.verdict);
  doc["ranking"] = json::array();
  for (const auto& e : r.ranking) doc["ranking"].push_back(rank_entry_to_json(e));
  doc["findings"] = json::array();
  for (const auto& f : r.findings) doc["findings"].push_back(finding_to_json(f));
  doc["advice"] = json::array();
  for (const auto& a : r.advice) doc["advice"].push_back(advice_to_json(a));
  doc["metrics"] = json::array();
  for (const auto& m : r.metrics) doc["metrics"].push_back(metric_to_json(m));
  doc["breakdowns"] = r.breakdowns;
  doc["series"] = json::array();
  for (const auto& s : r.series) doc["series"].push_back(series_to_json(s));
  doc["gate"] = gate_to_json(r);
  if (r.fleet) doc["fleet"] = fleet_to_json(*r.fleet);
  return doc;
}

Report report_from_json(const json& doc) {
  if (!doc.is_object()) throw UsageError("not a chokepoint report: the document is not a JSON object");
  auto version = required<std::string>(doc, "schema_version", "report");
  if (version.rfind("1.", 0) != 0)
    throw UsageError("unsupported report schema_version " + version + " (this chokepoint reads 1.x)");
  Report r;
  const json run = doc.value("run", json::object());
  r.run.started_at = run.value("started_at", "");
  r.run.window_s = run.value("window_s", 0.0);
  r.run.duration_ms = run.value("duration_ms", 0.0);
  r.run.replayed = run.value("replayed", false);
  r.run.interrupted = run.value("interrupted", false);
  for (const auto& t : required<json>(doc, "targets", "report"))
    r.targets.push_back({required<std::string>(t, "kind", "targets[]"),
                         redact_url(required<std::string>(t, "name", "targets[]"))});
  for (const auto& jf : required<json>(doc, "findings", "report"))
    r.findings.push_back(finding_from_json(jf));
  for (const auto& ja : doc.value("advice", json::array())) r.advice.push_back(advice_from_json(ja));
  for (const auto& jm : doc.value("metrics", json::array())) r.metrics.push_back(metric_from_json(jm));
  for (const auto& jp : doc.value("probes", json::array())) r.probes.push_back(probe_from_json(jp));
  for (const auto& je : doc.value("ranking", json::array()))
    if (auto e = rank_entry_from_json(je)) r.ranking.push_back(std::move(*e));
  r.breakdowns = doc.value("breakdowns", json::array());
  for (const auto& js : doc.value("series", json::array())) r.series.push_back(series_from_json(js));
  r.verdict = verdict_from_json(doc.value("verdict", json::object()));
  if (doc.contains("fleet") && doc["fleet"].is_object()) r.fleet = fleet_from_json(doc["fleet"]);
  return r;
}

}  // namespace cp
