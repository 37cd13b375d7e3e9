// A minimal reader of the protobuf wire format for the fields of an OTLP
// ExportTraceServiceRequest that chokepoint uses (opentelemetry/proto/collector/trace/v1): resource
// attributes (service.name), and per span its ids, name, kind, times, attributes and status. Other
// fields are skipped by wire type. Spans go through the traces probe's OTLP mapping.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "probes/traces/readers.hpp"

namespace cp::otlp {

// A body that is not a well-formed ExportTraceServiceRequest: what and where (byte offset).
struct DecodeError {
  std::string message;
};

// Hands every span of the request to `sink` (RawSpan views point into `body`). Returns the number of
// spans. Throws DecodeError; the sink may have seen some spans by then.
size_t read_export_protobuf(std::string_view body, const traces::SpanSink& sink);

// The number of spans in the request, without mapping them (for exports refused when full).
size_t count_spans_protobuf(std::string_view body);

}  // namespace cp::otlp
