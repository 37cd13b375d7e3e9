// JUnit XML for CI test tabs: one testsuite per probe (and one for coverage, one for metrics).
// A finding that fails the gate is a <failure>; one that does not is a passing test case; a probe
// that could not examine its target is an <error>; a category nobody examined is <skipped>.
// Valid against the JUnit schema of Jenkins' xunit plugin (tests/junit/junit.xsd). Names are
// stable from run to run so CI keeps a test's history: suites are "chokepoint.<probe> <target
// without port>", test cases "<rule> <finding id>"; every number goes in the message and body.
#include <map>

#include <fmt/format.h>

#include "core/gate.hpp"
#include "render/render.hpp"
#include "util/format.hpp"

namespace cp {

namespace {

std::string xml(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') continue;  // not allowed in XML 1.0
        out += static_cast<char>(c);
    }
  }
  return out;
}

struct Case {
  std::string name, classname, body;  // body: <failure>, <error>, <skipped> or system-out
  double time_s = 0;
};

struct Suite {
  std::string name;
  double time_s = 0;
  int failures = 0, errors = 0, skipped = 0;
  std::vector<Case> cases;
};

std::string finding_body(const Finding& f) {
  std::string text = f.title + "\n\n" + f.detail + "\n\nfix: " + f.remediation.summary +
                     (f.remediation.sql ? "\n" + *f.remediation.sql : "") +
                     (f.remediation.config ? "\n" + *f.remediation.config : "");
  if (f.fails_gate)
    return fmt::format("<failure type=\"{}\" message=\"{}\">{}</failure>", xml(f.rule),
                       xml(fmt::format("{}{}: {}", f.baseline.empty() ? "" : f.baseline + " ",
                                       to_string(f.severity), f.title)),
                       xml(text));
  return fmt::format("<system-out>{}</system-out>", xml(std::string(to_string(f.severity)) + ": " + text));
}

// Suites in order of first use, by name.
struct Suites {
  std::map<std::string, Suite> by_name;
  std::vector<std::string> order;
  Suite& operator[](const std::string& name) {
    if (!by_name.count(name)) order.push_back(name);
    Suite& s = by_name[name];
    s.name = name;
    return s;
  }
};

std::string probe_suite(const std::string& probe, const std::string& target) {
  return "chokepoint." + probe + " " + target_without_port(target);
}

void add_probes(const Report& r, Suites& suites) {
  for (const auto& p : r.probes) {
    Suite& s = suites[probe_suite(p.name, p.target)];
    s.time_s = p.duration_ms / 1000;
    Case c{"examine", "chokepoint." + p.name, "", p.duration_ms / 1000};
    if (p.status != ProbeStatus::ok) {
      c.body = fmt::format("<error type=\"probe\" message=\"{}\"/>", xml(p.message));
      ++s.errors;
    }
    s.cases.push_back(std::move(c));
  }
}

void add_findings(const Report& r, Suites& suites) {
  for (const auto& f : r.findings) {
    Suite& s = suites[f.probe.empty() ? "chokepoint.findings" : probe_suite(f.probe, f.target)];
    s.cases.push_back({f.rule + " " + f.id, "chokepoint." + f.rule, finding_body(f), 0});
    if (f.fails_gate) ++s.failures;
  }
}

void add_coverage(const Report& r, Suites& suites) {
  Suite& coverage = suites["chokepoint.coverage"];
  for (const auto& e : r.ranking) {
    Case c{"examined " + std::string(to_string(e.category)), "chokepoint.coverage", "", 0};
    if (!e.examined) {
      c.body = fmt::format("<skipped message=\"{}\"/>", xml(e.not_examined_reason));
      ++coverage.skipped;
    }
    coverage.cases.push_back(std::move(c));
  }
}

void add_metric_changes(const Report& r, Suites& suites) {
  if (r.gate.baseline.metric_changes.empty()) return;
  Suite& metrics = suites["chokepoint.metrics against the baseline"];
  bool failing = false;
  for (const auto& reason : r.gate.reasons) failing = failing || reason.rfind("metric ", 0) == 0;
  for (const auto& m : r.gate.baseline.metric_changes) {
    std::string name = m.value("name", "");
    const json labels = m.value("labels", json::object());
    for (const auto& [k, v] : labels.items())
      if (k != "target" && v.is_string()) name += " " + k + "=" + v.get<std::string>();
    bool regressed = m.value("regressed", false);
    std::string text = fmt::format("{} -> {}", m.value("baseline", 0.0), m.value("current", 0.0));
    Case c{name, "chokepoint.metrics", "", 0};
    if (regressed && failing) {
      c.body = fmt::format("<failure type=\"metric\" message=\"{} regressed: {}\"/>", xml(name), xml(text));
      ++metrics.failures;
    } else {
      c.body = fmt::format("<system-out>{}{}</system-out>", xml(text),
                           regressed ? " (worse, reported only)" : " (better)");
    }
    metrics.cases.push_back(std::move(c));
  }
}

std::string suites_xml(const Report& r, Suites& suites) {
  int tests = 0, failures = 0, errors = 0;
  double time_s = r.run.duration_ms / 1000;
  for (const auto& [name, s] : suites.by_name) {
    tests += static_cast<int>(s.cases.size());
    failures += s.failures;
    errors += s.errors;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  // <testsuites> has no "skipped" attribute in the schema: skipped counts are per suite.
  out += fmt::format(
      "<testsuites name=\"chokepoint\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n", tests,
      failures, errors, time_s);
  for (const auto& name : suites.order) {
    const Suite& s = suites[name];
    out += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\" "
        "timestamp=\"{}\">\n",
        xml(s.name), s.cases.size(), s.failures, s.errors, s.skipped, s.time_s, xml(r.run.started_at));
    for (const auto& c : s.cases) {
      out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml(c.classname),
                         xml(c.name), c.time_s);
      out += c.body.empty() ? "/>\n" : ">" + c.body + "</testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace

std::string render_junit(const Report& r) {
  Suites suites;
  add_probes(r, suites);
  add_findings(r, suites);
  add_coverage(r, suites);
  add_metric_changes(r, suites);
  return suites_xml(r, suites);
}

}  // namespace cp
