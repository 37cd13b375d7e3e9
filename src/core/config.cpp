#include "core/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/advice.hpp"
#include "core/catalog.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"
#include "util/files.hpp"
#include "util/toml_ascii.hpp"

namespace cp {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw UsageError(fmt::format("config {}: {}", where, what));
}

std::string closest_rule(std::string_view id) {
  // A hint for typos: the rule with the longest common prefix.
  std::string best;
  size_t best_len = 0;
  for (const auto& r : rule_catalog()) {
    size_t n = 0;
    while (n < id.size() && n < r.id.size() && id[n] == r.id[n]) ++n;
    if (n > best_len) {
      best_len = n;
      best = std::string(r.id);
    }
  }
  return best_len >= 3 ? fmt::format(" (did you mean {}?)", best) : "";
}

constexpr size_t kMaxConfigBytes = 1 << 20;

// "line:column" (1-based) of a byte offset.
std::string line_column(std::string_view t, size_t offset) {
  size_t line =
      static_cast<size_t>(std::count(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
  size_t start = offset == 0 ? std::string_view::npos : t.rfind('\n', offset - 1);
  size_t column = start == std::string_view::npos ? offset + 1 : offset - start;
  return fmt::format("{}:{}", line + 1, column);
}

double number_of(const toml::node& v, const std::string& where) {
  auto d = v.value<double>();
  if (!d) fail(where, "expected a number");
  if (!std::isfinite(*d)) fail(where, "expected a finite number, not " + fmt::format("{}", *d));
  if (*d < 0) fail(where, fmt::format("expected a number >= 0, not {}", *d));
  return *d;
}

// A threshold's range follows from its declaration: a share (a ratio whose default is at most 1)
// lies in [0, 1], a percentage in [0, 100], anything else is >= 0 (number_of).
double threshold_of(const ThresholdSpec& spec, const toml::node& v, const std::string& where) {
  double d = number_of(v, where);
  double max = spec.unit == "ratio" && spec.value <= 1 ? 1 : spec.unit == "%" ? 100 : HUGE_VAL;
  if (d > max) fail(where, fmt::format("expected a {} between 0 and {}, not {}", spec.unit, max, d));
  return d;
}

void parse_rule(const RuleSpec& spec, const toml::table& t, const std::string& where, RuleSetting& out) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    std::string at = where + "." + key;
    if (key == "level") {
      auto s = v.value<std::string>();
      if (s == "off")
        out.level = RuleLevel::off;
      else if (s == "warn")
        out.level = RuleLevel::warn;
      else if (s == "error")
        out.level = RuleLevel::error;
      else
        fail(at, "expected \"off\", \"warn\" or \"error\"");
    } else if (key == "severity") {
      auto s = v.value<std::string>();
      auto sev = s ? severity_from_string(*s) : std::nullopt;
      if (!sev) fail(at, "expected critical, high, medium, low or info");
      out.severity = sev;
    } else if (const ThresholdSpec* th = spec.threshold(key)) {
      out.thresholds[key] = threshold_of(*th, v, at);
    } else {
      std::string known;
      for (const auto& th : spec.thresholds) known += (known.empty() ? "" : ", ") + std::string(th.name);
      fail(at, fmt::format("{} has no threshold \"{}\" (it has: level, severity, {})", spec.id, key, known));
    }
  }
}

void parse_rules(const toml::table& rules, const std::string& where, Settings& s) {
  for (auto&& [k, v] : rules) {
    std::string id(k.str());
    const RuleSpec* spec = find_rule(id);
    if (!spec)
      fail(where, fmt::format("unknown rule \"{}\"{}; `chokepoint rules` lists them", id, closest_rule(id)));
    if (!v.is_table()) fail(where + "." + id, "expected a table");
    parse_rule(*spec, *v.as_table(), where + ".\"" + id + "\"", s.rules[id]);
  }
}

// [advice."ID"]: a lever's thresholds and level, kept with the rules' settings under its id.
void parse_advice(const toml::table& levers, Settings& s) {
  for (auto&& [k, v] : levers) {
    std::string id(k.str());
    const RuleSpec* spec = find_advice(id);
    if (!spec) fail("advice", fmt::format("unknown advice \"{}\"; `chokepoint rules` lists them", id));
    if (!v.is_table()) fail("advice." + id, "expected a table");
    parse_rule(*spec, *v.as_table(), "advice.\"" + id + "\"", s.rules[id]);
  }
}

void parse_probes(const toml::table& probes, Settings& s) {
  for (auto&& [k, v] : probes) {
    std::string name(k.str());
    const ProbeKind* kind = find_probe_kind(name);
    if (!kind) fail("probes", "unknown probe \"" + name + "\"");
    if (!v.is_table()) fail("probes." + name, "expected a table");
    for (auto&& [ok, ov] : *v.as_table()) {
      std::string opt(ok.str());
      if (!kind->options.count(opt))
        fail("probes." + name, fmt::format("{} has no option \"{}\"", name, opt));
      s.probe_options[name][opt] = number_of(ov, "probes." + name + "." + opt);
    }
  }
}

// A TOML date (until = 2026-12-31) or the same as a string; checked for a real calendar day.
std::string parse_until(const toml::node& v, const std::string& where) {
  int y = 0, m = 0, d = 0;
  if (auto date = v.value<toml::date>()) {
    y = date->year;
    m = date->month;
    d = date->day;
  } else if (auto s = v.value<std::string>();
             s && s->size() == 10 && std::sscanf(s->c_str(), "%4d-%2d-%2d", &y, &m, &d) == 3) {
  } else {
    fail(where, "expected a date, e.g. 2026-12-31");
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1] || (m == 2 && d == 29 && !leap))
    fail(where, "not a calendar date");
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

AcknowledgeSetting parse_acknowledgement(const toml::table& t, const std::string& where) {
  AcknowledgeSetting a;
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    std::string at = where + "." + key;
    if (key == "id") {
      auto s = v.value<std::string>();
      if (!s || s->size() != 32 || s->find_first_not_of("0123456789abcdef") != std::string::npos)
        fail(at, "expected a finding id (32 hex digits, as reports show it)");
      a.id = *s;
    } else if (key == "rule") {
      auto s = v.value<std::string>();
      if (!s) fail(at, "expected a rule id");
      if (!find_rule(*s))
        fail(at, fmt::format("unknown rule \"{}\"{}; `chokepoint rules` lists them", *s, closest_rule(*s)));
      a.rule = *s;
    } else if (key == "match") {
      if (!v.is_table())
        fail(at, "expected a table of evidence keys and values, e.g. { route = \"/orders\" }");
      for (auto&& [mk, mv] : *v.as_table()) {
        std::string value;
        if (auto s = mv.value<std::string>())
          value = *s;
        else if (auto i = mv.value<int64_t>(); i && mv.is_integer())
          value = std::to_string(*i);
        else
          fail(at + "." + std::string(mk.str()), "expected a string or an integer");
        a.match[std::string(mk.str())] = value;
      }
    } else if (key == "reason") {
      auto s = v.value<std::string>();
      if (!s || s->find_first_not_of(" \t\n") == std::string::npos) fail(at, "expected a non-empty text");
      a.reason = *s;
    } else if (key == "until") {
      a.until = parse_until(v, at);
    } else {
      fail(at, "unknown key (expected id, rule, match, reason, until)");
    }
  }
  if (a.id.has_value() == a.rule.has_value())
    fail(where, "name the finding by either `id` or `rule` (+ `match`)");
  if (a.id && !a.match.empty()) fail(where, "`match` goes with `rule`, not with `id`");
  if (a.reason.empty()) fail(where, "`reason` is required: say why the finding is accepted");
  return a;
}

void parse_acknowledgements(const toml::node& node, Settings& s) {
  const toml::array* list = node.as_array();
  if (!list) fail("acknowledge", "expected [[acknowledge]] tables");
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = fmt::format("acknowledge[{}]", i + 1);
    const toml::node& item = *list->get(i);
    if (!item.is_table()) fail(where, "expected a table");
    s.acknowledgements.push_back(parse_acknowledgement(*item.as_table(), where));
  }
}

// The TOML document, or a UsageError with line:column.
toml::table read_toml(const std::string& text, const std::string& source_name) {
  if (text.size() > kMaxConfigBytes)
    throw UsageError(fmt::format("config {}: larger than {} KiB: not a chokepoint.toml", source_name,
                                 kMaxConfigBytes >> 10));
  AsciiToml ascii = ascii_toml(text);
  if (ascii.error)
    throw UsageError(
        fmt::format("config {}:{}: {}", source_name, line_column(text, *ascii.error), ascii.what));
  try {
    return toml::parse(ascii.text, source_name);
  } catch (const toml::parse_error& e) {
    throw UsageError(fmt::format("config {}:{}:{}: {}", source_name, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

void parse_fail_on_setting(const toml::node& v, Settings& s) {
  auto val = v.value<std::string>();
  static const char* kOk[] = {"critical", "high", "medium", "low", "never"};
  if (!val || std::none_of(std::begin(kOk), std::end(kOk), [&](const char* o) { return *val == o; }))
    fail("gate.fail_on", "expected critical, high, medium, low or never");
  s.gate.fail_on = *val;
}

void parse_rules_not_run(const toml::node& v, Settings& s) {
  auto val = v.value<std::string>();
  if (val == "warn")
    s.gate.rules_not_run = RuleLevel::warn;
  else if (val == "error")
    s.gate.rules_not_run = RuleLevel::error;
  else
    fail("gate.rules_not_run", "expected \"warn\" (a gate note) or \"error\" (fail the gate)");
}

void parse_metric_regressions(const toml::node& v, Settings& s) {
  auto val = v.value<std::string>();
  if (val == "off")
    s.gate.metric_regressions = RuleLevel::off;
  else if (val == "warn")
    s.gate.metric_regressions = RuleLevel::warn;
  else if (val == "error")
    s.gate.metric_regressions = RuleLevel::error;
  else
    fail("gate.metric_regressions", "expected \"off\", \"warn\" or \"error\"");
}

// [gate]
void parse_gate(const toml::table& gate, Settings& s) {
  for (auto&& [gk, gv] : gate) {
    std::string g(gk.str());
    if (g == "fail_on") {
      parse_fail_on_setting(gv, s);
    } else if (g == "metric_tolerance") {
      s.gate.metric_tolerance = number_of(gv, "gate.metric_tolerance");
      if (s.gate.metric_tolerance < 0) fail("gate.metric_tolerance", "expected a ratio >= 0");
    } else if (g == "rules_not_run") {
      parse_rules_not_run(gv, s);
    } else if (g == "metric_regressions") {
      parse_metric_regressions(gv, s);
    } else {
      fail("gate", "unknown key \"" + g +
                       "\" (expected fail_on, metric_tolerance, metric_regressions, rules_not_run)");
    }
  }
}

// [targets."NAME".rules]: rule settings for one target.
void parse_targets(const toml::table& targets, Settings& s) {
  for (auto&& [name, section] : targets) {
    std::string target(name.str());
    if (!section.is_table()) fail("targets." + target, "expected a table");
    Settings overlay;
    for (auto&& [sk, sv] : *section.as_table()) {
      if (std::string(sk.str()) != "rules" || !sv.is_table())
        fail("targets.\"" + target + "\"", "only a [targets.\"NAME\".rules] table is allowed here");
      parse_rules(*sv.as_table(), "targets.\"" + target + "\".rules", overlay);
    }
    s.per_target[target] = std::move(overlay.rules);
  }
}

}  // namespace

Settings parse_config(const std::string& text, const std::string& source_name) {
  toml::table doc = read_toml(text, source_name);
  Settings s;
  for (auto&& [k, v] : doc) {
    std::string key(k.str());
    if (key == "rules" && v.is_table()) {
      parse_rules(*v.as_table(), "rules", s);
    } else if (key == "advice" && v.is_table()) {
      parse_advice(*v.as_table(), s);
    } else if (key == "probes" && v.is_table()) {
      parse_probes(*v.as_table(), s);
    } else if (key == "gate" && v.is_table()) {
      parse_gate(*v.as_table(), s);
    } else if (key == "acknowledge") {
      parse_acknowledgements(v, s);
    } else if (key == "targets" && v.is_table()) {
      parse_targets(*v.as_table(), s);
    } else {
      fail(source_name, fmt::format("unknown section \"{}\" (expected [rules], [advice], [probes], [gate], "
                                    "[targets] or [[acknowledge]])",
                                    key));
    }
  }
  return s;
}

Settings load_config(const std::string& path) {
  auto r = read_file(path);
  if (!r.content) throw UsageError("config: " + r.error);
  return parse_config(*r.content, path);
}

}  // namespace cp
