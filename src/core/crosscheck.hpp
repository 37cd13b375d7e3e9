// What one probe measured that another probe's findings may rest on (src/core/reconcile.cpp): a
// datastore's own statistics beside its clients' spans, a process's CPU stalls beside the spans it
// emitted. Probes fill it in their judgement; the reconciler reads them all before ranking.
#pragma once

#include <string>
#include <vector>

namespace cp {

// Who emitted spans, or which process a host probe watched. Any part may be unknown ("").
struct ProcessIdentity {
  std::string pid, host, container;
  bool known() const { return !pid.empty() || !container.empty(); }
};

// One statement or command as its datastore measured it (`server`) or as client spans did.
struct StatementTime {
  std::string datastore;  // "postgresql", "redis", "mysql" (db.system)
  std::string statement;  // as the probe normalizes it ($1 or ? for parameters)
  double calls = 0, total_ms = 0;
  bool server = false;
  ProcessIdentity process;  // client side: who issued it
  double mean_ms() const { return calls > 0 ? total_ms / calls : 0; }
};

// A process whose CPU was held back through the window (host probe): throttled by its quota or
// starved on a saturated host.
struct ProcessStall {
  ProcessIdentity process;
  double share = 0;        // 0..1 of the window
  std::string finding_id;  // the finding that says so
  std::string cause;       // its rule
};

struct CrossCheck {
  std::vector<StatementTime> statements;
  std::vector<ProcessStall> stalls;
  // Client side: the request time the probe's attribution divides (critical-path ms), so the time
  // moved out of the datastore can be restated as a share.
  double attributed_ms = 0;
};

}  // namespace cp
