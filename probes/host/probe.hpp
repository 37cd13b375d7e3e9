#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind host_probe();
}
