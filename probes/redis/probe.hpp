#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind redis_probe();
}
