#pragma once
#include "probes/probe.hpp"

namespace cp {
ProbeKind pgbouncer_probe();
}
