// chokepoint.toml: per-rule level, thresholds and severity, probe options, per-target sections.
// Anything that does not name a real rule, threshold or option is an error (exit 2), never ignored.
#pragma once

#include <string>

#include "core/settings.hpp"

namespace cp {

Settings load_config(const std::string& path);                                   // throws UsageError
Settings parse_config(const std::string& text, const std::string& source_name);  // throws UsageError

}  // namespace cp
