#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind http_probe();
}
