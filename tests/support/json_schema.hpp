// A JSON Schema (2020-12) validator for the keywords chokepoint's report schema uses. An unknown
// keyword is an error, so the schema can never rely on a check that silently does nothing.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cp::test {

class JsonSchema {
 public:
  explicit JsonSchema(nlohmann::ordered_json schema);
  // Every violation as "path: what"; empty when the document is valid.
  std::vector<std::string> validate(const nlohmann::ordered_json& doc) const;

 private:
  void check(const nlohmann::ordered_json& schema, const nlohmann::ordered_json& doc, const std::string& path,
             std::vector<std::string>& errors) const;
  const nlohmann::ordered_json& resolve(const std::string& ref) const;
  nlohmann::ordered_json root_;
};

// The schema shipped in src/core/report.schema.json.
const JsonSchema& report_schema();

// The SARIF 2.1.0 schema (OASIS; the schemastore copy, committed in tests/schemas/).
const JsonSchema& sarif_schema();

}  // namespace cp::test
