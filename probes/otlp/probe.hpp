#pragma once

#include "probes/probe.hpp"

namespace cp {

ProbeKind otlp_probe();

}  // namespace cp
