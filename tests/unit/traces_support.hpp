// What the trace tests share: reading a text into a snapshot, judging it, a reader's error.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"

namespace cp::test {

inline constexpr int kInternal = 1, kServer = 2, kClient = 3, kProducer = 4;

struct TSpan {
  std::string id, parent, name, service;
  int kind = kInternal;
  double start_ms = 0, dur_ms = 0;
  std::vector<std::pair<std::string, std::string>> attrs = {};
  bool error = false;
};

// Hand-made spans (OTLP kinds) and one OTLP/JSON document of them, one resourceSpans per span (its service),
// all in `trace`.
inline std::string otlp_spans(const std::vector<TSpan>& spans, int trace = 1) {
  std::string out = R"({"resourceSpans":[)";
  for (size_t i = 0; i < spans.size(); ++i) {
    const TSpan& s = spans[i];
    std::string attrs;
    for (const auto& [k, v] : s.attrs)
      attrs +=
          fmt::format(R"({}{{"key":"{}","value":{{"stringValue":"{}"}}}})", attrs.empty() ? "" : ",", k, v);
    auto ns = [](double ms) { return static_cast<long long>(1'700'000'000'000'000'000LL + ms * 1e6); };
    out += fmt::format(
        R"({}{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{}"}}}}]}},)"
        R"("scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"{:0>16}","parentSpanId":"{}","name":"{}",)"
        R"("kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{}]{}}}]}}]}})",
        i ? "," : "", s.service, trace, s.id, s.parent.empty() ? "" : fmt::format("{:0>16}", s.parent),
        s.name, s.kind, ns(s.start_ms), ns(s.start_ms + s.dur_ms), attrs,
        s.error ? R"(,"status":{"code":2,"message":"Timeout awaiting response"})" : "");
  }
  return out + "]}";
}

inline traces::Snapshot assemble_text(const std::string& text) {
  traces::Assembler a;
  traces::read_traces_buffer("inline", text.data(), text.size(), [&](const traces::RawSpan& s) { a.add(s); });
  return a.finish();
}

// Several OTLP/JSON documents (one per trace, say) assembled as one input.
inline traces::Snapshot assemble_docs(const std::vector<std::string>& docs) {
  traces::Assembler a;
  for (const auto& d : docs)
    traces::read_traces_buffer("inline", d.data(), d.size(), [&](const traces::RawSpan& s) { a.add(s); });
  return a.finish();
}

inline Judgement judge_traces(const traces::Snapshot& s) {
  Target t{"traces", "--traces", {""}, "fixture", {}};
  return traces::judge(s, t, {});
}

inline std::vector<Finding> trace_findings(const traces::Snapshot& s, const std::string& rule) {
  std::vector<Finding> out;
  for (auto& f : judge_traces(s).findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

// The reader's message for `text` read as "input.json", "" when it reads.
inline std::string trace_read_error(const std::string& text) {
  try {
    traces::read_traces_buffer("input.json", text.data(), text.size(), [](const traces::RawSpan&) {});
  } catch (const traces::ReadError& e) {
    return e.message;
  }
  return "";
}

}  // namespace cp::test
