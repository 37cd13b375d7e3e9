#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind prometheus_probe();
}
