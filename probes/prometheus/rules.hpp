// The fleet's judgement: every instance the engine's results name is judged by the direct probe's
// own rules (host for containers and nodes, postgres, redis), with the same ids and thresholds; each
// finding then names its instance. Pure.
#pragma once

#include "probes/probe.hpp"
#include "probes/prometheus/snapshot.hpp"

namespace cp::prom {

Judgement judge(const Snapshot& s, const Target& target, const Settings& settings);
// The rules it judges: the host, PostgreSQL and Redis probes' (declared there).
RuleDeclarations rule_declarations();

}  // namespace cp::prom
