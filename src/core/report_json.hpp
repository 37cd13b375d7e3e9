// The JSON report (src/core/CONTRACT.md, schema_version 1.x) and reading one back (baselines, compare).
#pragma once

#include "core/model.hpp"

namespace cp {

json report_to_json(const Report& report);
json finding_to_json(const Finding& f);
json advice_to_json(const Advice& a);

// Throws UsageError naming the first thing that is not a chokepoint report.
Report report_from_json(const json& doc);

}  // namespace cp
