#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind postgres_probe();
}
