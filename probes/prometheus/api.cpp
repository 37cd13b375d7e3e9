#include "probes/prometheus/api.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cp::prom {

namespace {

using nlohmann::json;

json parse_body(const Answer& a) {
  json doc = json::parse(a.body, nullptr, false);
  return doc.is_object() ? doc : json();
}

std::string first_line(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (line.size() > 200) line = line.substr(0, 200) + "…";
  return line;
}

double sample_value(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) throw std::runtime_error("a malformed sample");
  return std::strtod(pair[1].get_ref<const std::string&>().c_str(), nullptr);
}

}  // namespace

std::string failure_of(const Answer& a) {
  if (!a.error.empty()) return a.error;
  json doc = parse_body(a);
  std::string why = doc.is_object() && doc.contains("error") && doc["error"].is_string()
                        ? doc["error"].get<std::string>()
                        : first_line(a.body);
  return fmt::format("HTTP {}{}{}", a.status, why.empty() ? "" : ": ", why);
}

void read_query_answer(const Answer& a, QueryResult& out) {
  json doc = parse_body(a);
  if (doc.is_object())
    for (const auto& w : doc.value("warnings", json::array()))
      if (w.is_string()) out.warnings.push_back(w.get<std::string>());
  if (!a.error.empty() || a.status != 200 || !doc.is_object() || doc.value("status", "") != "success") {
    out.status = "error";
    out.error = doc.is_null() && a.error.empty() && a.status == 200 ? "the answer is not JSON" : failure_of(a);
    return;
  }
  out.status = "ok";
  try {
    const json& data = doc.at("data");
    std::string type = data.value("resultType", "");
    const json& result = data.at("result");
    if (type == "scalar") {
      double v = sample_value(result);
      if (!std::isnan(v)) out.result.push_back({{}, v});
      return;
    }
    if (type != "vector") throw std::runtime_error("a " + type + " result where an instant vector was expected");
    for (const auto& s : result) {
      Sample sample;
      sample.value = sample_value(s.at("value"));
      if (std::isnan(sample.value)) continue;
      const json metric = s.value("metric", json::object());
      for (const auto& [k, v] : metric.items())
        if (v.is_string()) sample.labels[k] = v.get<std::string>();
      out.result.push_back(std::move(sample));
    }
  } catch (const std::exception& e) {
    out.status = "error";
    out.error = std::string("unreadable answer: ") + e.what();
    out.result.clear();
  }
}

std::vector<std::string> read_names_answer(const Answer& a) {
  json doc = parse_body(a);
  if (!a.error.empty() || a.status != 200 || !doc.is_object() || doc.value("status", "") != "success" ||
      !doc.contains("data") || !doc["data"].is_array())
    throw std::runtime_error(failure_of(a));
  std::vector<std::string> names;
  for (const auto& n : doc["data"])
    if (n.is_string()) names.push_back(n.get<std::string>());
  return names;
}

}  // namespace cp::prom
