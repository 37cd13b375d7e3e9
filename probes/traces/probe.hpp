#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind traces_probe();
}
