// What the OTLP receiver measured: its own counters, and the traces it received, assembled and
// analysed exactly as trace files are (probes/traces).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "probes/traces/snapshot.hpp"

namespace cp::otlp {

struct ReceiverStats {
  std::string listen;  // ADDR:PORT it listened on
  double window_s = 0;
  double connections = 0;
  double exports_accepted = 0;
  double exports_json = 0, exports_protobuf = 0;  // of the accepted ones
  double exports_malformed = 0;                   // 400: not a readable ExportTraceServiceRequest
  double exports_too_large = 0;                   // 413: body (or its gzip expansion) over max_body_mb
  double exports_throttled = 0;                   // 429: the analysis queue was full
  double exports_unsupported = 0;                 // 404 / 405 / 415: wrong path, method, type or encoding
  double spans_received = 0;                      // in accepted exports: analysed
  double spans_rejected = 0;                      // read from malformed exports before the error (at least)
  double spans_dropped = 0;                       // in throttled exports (the exporter may send them again)
  double bytes_received = 0;                      // request bodies as sent (compressed or not)
  double exports_unanalysed = 0;                  // accepted, still queued when the run was interrupted
  std::string last_error;                         // the last rejection's reason, for the report
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ReceiverStats, listen, window_s, connections,
                                                exports_accepted, exports_json, exports_protobuf,
                                                exports_malformed, exports_too_large, exports_throttled,
                                                exports_unsupported, spans_received, spans_rejected,
                                                spans_dropped, bytes_received, exports_unanalysed, last_error)

struct Snapshot {
  ReceiverStats receiver;
  traces::Snapshot traces;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Snapshot, receiver, traces)

}  // namespace cp::otlp
