// SARIF 2.1.0 for code scanning (GitHub, GitLab): one run, the catalogue as the tool's rules, one
// result per finding. A finding whose evidence names a source line (code.* span attributes) is
// annotated there; any other finding gets logical locations (a fleet instance, function, service and
// route, table, statement, component).
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "chokepoint/version.hpp"
#include "core/catalog.hpp"
#include "render/render.hpp"
#include "util/format.hpp"

namespace cp {

namespace {

constexpr std::string_view kSarifSchema = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr std::string_view kFingerprintKey = "chokepointFindingId/v1";

// "db.missing_index" -> "DbMissingIndex": SARIF's human-readable rule name.
std::string rule_name(std::string_view id) {
  std::string out;
  bool upper = true;
  for (char c : id) {
    if (c == '.' || c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::string first_sentence(std::string_view text) {
  auto end = text.find("; ");
  return std::string(text.substr(0, end));
}

json rule_descriptor(const RuleSpec& r) {
  json thresholds = json::array();
  std::string help =
      std::string(r.fix) + "\n\nThresholds (chokepoint.toml [rules.\"" + std::string(r.id) + "\"]):";
  std::string markdown =
      std::string(r.fix) + "\n\n| threshold | default | meaning | source |\n|---|---|---|---|";
  for (const auto& t : r.thresholds) {
    thresholds.push_back({{"name", t.name},
                          {"default", t.value},
                          {"unit", t.unit},
                          {"meaning", t.meaning},
                          {"source", t.source}});
    help += fmt::format("\n  {} = {} {}: {} (source: {})", t.name, t.value, t.unit, t.meaning, t.source);
    markdown += fmt::format("\n| `{}` | {} {} | {} | {} |", t.name, t.value, t.unit, t.meaning, t.source);
  }
  return {{"id", r.id},
          {"name", rule_name(r.id)},
          {"shortDescription", {{"text", first_sentence(r.fires_when)}}},
          {"fullDescription", {{"text", std::string(r.fires_when)}}},
          {"help", {{"text", help}, {"markdown", markdown}}},
          {"defaultConfiguration", {{"level", "warning"}}},
          {"properties",
           {{"category", to_string(r.category)},
            {"tags", {"performance", std::string(to_string(r.category))}},
            {"thresholds", thresholds}}}};
}

// Failing the gate is an error; otherwise the severity decides between warning and note.
std::string_view result_level(const Finding& f) {
  if (f.fails_gate) return "error";
  if (f.acknowledgement && !f.acknowledgement->expired) return "note";
  return f.severity >= Severity::high ? "warning" : "note";
}

// RFC 3986: a path becomes a URI reference (absolute paths as file:// URIs).
std::string path_uri(const std::string& path) {
  std::string out = path.starts_with('/') ? "file://" : "";
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::string_view("-._~/").find(static_cast<char>(c)) != std::string_view::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string evidence_string(const json& evidence, const char* key) {
  auto it = evidence.find(key);
  return it != evidence.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json logical_locations(const Finding& f) {
  const json& ev = f.evidence;
  json out = json::array();
  auto add = [&](const std::string& name, const std::string& fqn, std::string_view kind) {
    if (!name.empty()) out.push_back({{"name", name}, {"fullyQualifiedName", fqn}, {"kind", kind}});
  };
  // A fleet finding (--prometheus) is first about its instance: the pod's container, node or server.
  std::string instance = evidence_string(ev, "instance");
  add(instance, instance, "resource");
  std::string function = evidence_string(ev, "code_function");
  add(function, function, "function");
  std::string service = evidence_string(ev, "service"), route = evidence_string(ev, "route");
  if (!route.empty())
    add(route, service.empty() ? route : service + " " + route, "resource");
  else
    add(service, service, "module");
  std::string table = evidence_string(ev, "table"), schema = evidence_string(ev, "schema");
  add(table, schema.empty() ? table : schema + "." + table, "type");
  std::string query = one_line(evidence_string(ev, "query"), 200);
  add(query, query, "resource");
  std::string call = evidence_string(ev, "call");
  add(call, call, "resource");
  if (out.empty()) add(f.component, f.component, "module");
  return out;
}

json location_of(const Finding& f) {
  json loc = json::object();
  std::string file = evidence_string(f.evidence, "code_filepath");
  if (!file.empty()) {
    json physical = {{"artifactLocation", {{"uri", path_uri(file)}}}};
    if (!file.starts_with('/')) physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%";
    auto line = f.evidence.find("code_lineno");
    if (line != f.evidence.end() && line->is_number_integer() && line->get<int64_t>() >= 1)
      physical["region"] = {{"startLine", line->get<int64_t>()}};
    loc["physicalLocation"] = physical;
  }
  loc["logicalLocations"] = logical_locations(f);
  return loc;
}

std::string message_text(const Finding& f) {
  std::string text = f.title;
  if (!f.detail.empty()) text += "\n" + f.detail;
  if (!f.remediation.summary.empty()) text += "\nFix: " + f.remediation.summary;
  if (f.remediation.sql) text += "\n" + *f.remediation.sql;
  if (f.acknowledgement)
    text += fmt::format("\nAcknowledged{}: {}", f.acknowledgement->expired ? " (expired)" : "",
                        f.acknowledgement->reason);
  return text;
}

json result_of(const Finding& f, const std::map<std::string_view, size_t>& rule_index) {
  json props = {{"severity", to_string(f.severity)},
                {"category", to_string(f.category)},
                {"component", f.component},
                {"impact_share", f.impact.share ? json(*f.impact.share) : json(nullptr)},
                {"fails_gate", f.fails_gate},
                {"thresholds", f.thresholds},
                {"evidence", f.evidence}};
  if (!f.baseline.empty()) props["baseline"] = f.baseline;
  json result = {{"ruleId", f.rule},
                 {"level", result_level(f)},
                 {"message", {{"text", message_text(f)}}},
                 {"locations", json::array({location_of(f)})},
                 {"partialFingerprints", {{kFingerprintKey, f.id}}},
                 {"properties", props}};
  if (auto it = rule_index.find(f.rule); it != rule_index.end()) result["ruleIndex"] = it->second;
  if (f.baseline == "new")
    result["baselineState"] = "new";
  else if (f.baseline == "unchanged" || f.baseline == "regressed")
    result["baselineState"] = f.baseline == "unchanged" ? "unchanged" : "updated";
  if (f.acknowledgement && !f.acknowledgement->expired)
    result["suppressions"] = json::array(
        {{{"kind", "external"}, {"status", "accepted"}, {"justification", f.acknowledgement->reason}}});
  return result;
}

json invocation_of(const Report& report) {
  json notifications = json::array();
  bool ok = true;
  for (const auto& p : report.probes) {
    if (p.status == ProbeStatus::error) {
      ok = false;
      notifications.push_back(
          {{"level", "error"},
           {"message", {{"text", fmt::format("{} {}: {}", p.name, p.target, p.message)}}}});
    }
    for (const auto& n : p.notes)
      notifications.push_back({{"level", "note"}, {"message", {{"text", fmt::format("{}: {}", p.name, n)}}}});
  }
  return {{"executionSuccessful", ok}, {"toolExecutionNotifications", notifications}};
}

}  // namespace

std::string render_sarif(const Report& report) {
  json rules = json::array();
  std::map<std::string_view, size_t> rule_index;
  for (const auto& r : rule_catalog()) {
    rule_index[r.id] = rules.size();
    rules.push_back(rule_descriptor(r));
  }
  json results = json::array();
  for (const auto& f : report.findings) results.push_back(result_of(f, rule_index));
  json run = {
      {"tool",
       {{"driver",
         {{"name", "chokepoint"}, {"version", kVersion}, {"semanticVersion", kVersion}, {"rules", rules}}}}},
      {"invocations", json::array({invocation_of(report)})},
      {"results", results},
      {"properties",
       {{"verdict", report.verdict.category ? std::string(to_string(*report.verdict.category)) : "none"},
        {"confidence", report.verdict.confidence},
        {"headline", report.verdict.headline},
        {"gate",
         {{"status", report.gate.status},
          {"fail_on", report.gate.fail_on},
          {"reasons", report.gate.reasons}}}}}};
  json doc = {{"$schema", kSarifSchema}, {"version", "2.1.0"}, {"runs", json::array({run})}};
  return doc.dump(2) + "\n";
}

}  // namespace cp
