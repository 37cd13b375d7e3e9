#include "probes/traces/levers.hpp"

#include <algorithm>
#include <cctype>

namespace cp::traces {

namespace {

bool is_select(const std::string& statement) {
  size_t i = 0;
  while (i < statement.size() && std::isspace(static_cast<unsigned char>(statement[i]))) ++i;
  std::string word;
  for (; i < statement.size() && std::isalpha(static_cast<unsigned char>(statement[i])); ++i)
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(statement[i])));
  return word == "select";
}

}  // namespace

TraceLoad trace_load(const Snapshot& s, const std::string& target,
                     const std::map<Category, double>& attribution) {
  TraceLoad out;
  out.target = target;
  out.requests = s.requests;
  if (auto it = attribution.find(Category::database); it != attribution.end())
    out.database_share = it->second;
  for (const auto& r : s.routes)
    for (const auto& p : r.patterns)
      if (p.kind == "n_plus_one" && is_select(p.key))
        out.repeated_reads.push_back(
            {p.key, r.service, r.route, p.requests, static_cast<double>(p.repeats), p.total_ms});
  std::stable_sort(out.repeated_reads.begin(), out.repeated_reads.end(),
                   [](const TraceRead& a, const TraceRead& b) { return a.total_ms > b.total_ms; });
  return out;
}

}  // namespace cp::traces
