// What the trace tests share: reading a text into a snapshot, judging it, a reader's error.
#pragma once

#include <string>
#include <vector>

#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"

namespace cp::test {

inline traces::Snapshot assemble_text(const std::string& text) {
  traces::Assembler a;
  traces::read_traces_buffer("inline", text.data(), text.size(), [&](const traces::RawSpan& s) { a.add(s); });
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
