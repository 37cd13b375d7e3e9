#include "json_schema.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <stdexcept>

namespace cp::test {

using json = nlohmann::ordered_json;

namespace {

bool type_matches(const std::string& type, const json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer")
    return v.is_number_integer() ||
           (v.is_number_float() && v.get<double>() == static_cast<int64_t>(v.get<double>()));
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  throw std::logic_error("schema: unknown type " + type);
}

// Annotations (draft-04's `id` and `definitions` too: the SARIF 2.1.0 schema is draft-04); `format`
// is an annotation by default in every draft.
const std::set<std::string> kAnnotations = {"$schema", "$id",         "id",       "title",   "description",
                                            "$defs",   "definitions", "$comment", "default", "format"};

}  // namespace

JsonSchema::JsonSchema(json schema) : root_(std::move(schema)) {}

const json& JsonSchema::resolve(const std::string& ref) const {
  if (ref.rfind("#/", 0) != 0) throw std::logic_error("schema: only local $ref is supported: " + ref);
  const json* node = &root_;
  size_t pos = 2;
  while (pos <= ref.size()) {
    size_t next = ref.find('/', pos);
    std::string part = ref.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!node->contains(part)) throw std::logic_error("schema: dangling $ref " + ref);
    node = &(*node)[part];
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return *node;
}

void JsonSchema::check(const json& s, const json& v, const std::string& path,
                       std::vector<std::string>& errors) const {
  if (s.is_boolean()) {
    if (!s.get<bool>()) errors.push_back(path + ": not allowed");
    return;
  }
  for (const auto& [key, arg] : s.items()) {
    if (kAnnotations.count(key)) continue;
    if (key == "$ref") {
      check(resolve(arg.get<std::string>()), v, path, errors);
    } else if (key == "type") {
      bool ok = false;
      if (arg.is_string())
        ok = type_matches(arg.get<std::string>(), v);
      else
        for (const auto& t : arg) ok = ok || type_matches(t.get<std::string>(), v);
      if (!ok) errors.push_back(path + ": expected type " + arg.dump() + ", got " + v.dump().substr(0, 80));
    } else if (key == "enum") {
      bool ok = false;
      for (const auto& e : arg) ok = ok || e == v;
      if (!ok) errors.push_back(path + ": " + v.dump() + " not in " + arg.dump());
    } else if (key == "const") {
      if (arg != v) errors.push_back(path + ": expected " + arg.dump());
    } else if (key == "required") {
      if (v.is_object())
        for (const auto& r : arg)
          if (!v.contains(r.get<std::string>()))
            errors.push_back(path + ": missing \"" + r.get<std::string>() + "\"");
    } else if (key == "properties") {
      if (v.is_object())
        for (const auto& [name, sub] : arg.items())
          if (v.contains(name)) check(sub, v[name], path + "." + name, errors);
    } else if (key == "additionalProperties") {
      if (v.is_object())
        for (const auto& [name, val] : v.items())
          if (!s.contains("properties") || !s["properties"].contains(name))
            check(arg, val, path + "." + name, errors);
    } else if (key == "items") {
      if (v.is_array())
        for (size_t i = 0; i < v.size(); ++i) check(arg, v[i], path + "[" + std::to_string(i) + "]", errors);
    } else if (key == "minItems") {
      if (v.is_array() && v.size() < arg.get<size_t>())
        errors.push_back(path + ": fewer than " + arg.dump() + " items");
    } else if (key == "maxItems") {
      if (v.is_array() && v.size() > arg.get<size_t>())
        errors.push_back(path + ": more than " + arg.dump() + " items");
    } else if (key == "uniqueItems") {
      if (v.is_array() && arg.get<bool>())
        for (size_t i = 0; i < v.size(); ++i)
          for (size_t j = i + 1; j < v.size(); ++j)
            if (v[i] == v[j])
              errors.push_back(path + ": items " + std::to_string(i) + " and " + std::to_string(j) +
                               " are equal");
    } else if (key == "minimum") {
      if (v.is_number() && v.get<double>() < arg.get<double>())
        errors.push_back(path + ": below " + arg.dump());
    } else if (key == "maximum") {
      if (v.is_number() && v.get<double>() > arg.get<double>())
        errors.push_back(path + ": above " + arg.dump());
    } else if (key == "minLength") {
      if (v.is_string() && v.get<std::string>().size() < arg.get<size_t>())
        errors.push_back(path + ": too short");
    } else if (key == "pattern") {
      if (v.is_string() && !std::regex_search(v.get<std::string>(),
                                              std::regex(arg.get<std::string>(), std::regex::ECMAScript)))
        errors.push_back(path + ": " + v.dump() + " does not match " + arg.get<std::string>());
    } else if (key == "not") {
      std::vector<std::string> sub;
      check(arg, v, path, sub);
      if (sub.empty()) errors.push_back(path + ": must not match " + arg.dump());
    } else if (key == "anyOf" || key == "oneOf") {
      size_t matches = 0;
      for (const auto& alt : arg) {
        std::vector<std::string> sub;
        check(alt, v, path, sub);
        matches += sub.empty();
      }
      if (key == "anyOf" ? matches == 0 : matches != 1)
        errors.push_back(path + ": " + key + " not satisfied");
    } else {
      throw std::logic_error("schema: keyword not supported by the test validator: " + key);
    }
  }
}

std::vector<std::string> JsonSchema::validate(const json& doc) const {
  std::vector<std::string> errors;
  check(root_, doc, "$", errors);
  return errors;
}

namespace {
JsonSchema load_schema(const std::string& relative) {
  std::ifstream in(std::string(CHOKEPOINT_SOURCE_DIR) + "/" + relative);
  if (!in) throw std::runtime_error("cannot open " + relative);
  return JsonSchema(json::parse(in));
}
}  // namespace

const JsonSchema& report_schema() {
  static const JsonSchema schema = load_schema("src/core/report.schema.json");
  return schema;
}

const JsonSchema& sarif_schema() {
  static const JsonSchema schema = load_schema("tests/schemas/sarif-2.1.0.json");
  return schema;
}

}  // namespace cp::test
