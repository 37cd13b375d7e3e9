#include "core/fleet.hpp"

#include <algorithm>
#include <map>

namespace cp {

void merge_fleet(std::optional<Fleet>& into, Fleet more) {
  if (!into) {
    into = std::move(more);
    return;
  }
  into->source += ", " + more.source;
  into->queries += more.queries;
  for (auto& i : more.instances) into->instances.push_back(std::move(i));
  for (auto& n : more.not_examined) into->not_examined.push_back(std::move(n));
}

void summarize_fleet(Report& r) {
  if (!r.fleet) return;
  std::map<std::string, FleetInstance*> by_name;
  for (auto& i : r.fleet->instances) by_name.emplace(i.name, &i);
  std::map<std::string, double> top_share;
  // The report's findings are already worst first: an instance's first finding is its worst.
  for (const auto& f : r.findings) {
    auto it = by_name.find(f.target);
    if (it == by_name.end() || (f.acknowledgement && !f.acknowledgement->expired)) continue;
    FleetInstance& i = *it->second;
    if (i.findings.empty()) {
      i.category = f.category;
      i.severity = f.severity;
      i.top = f.title;
      top_share[i.name] = f.impact.share.value_or(0);
    }
    i.findings.push_back(f.id);
  }
  auto rank = [](const std::optional<Severity>& s) { return s ? static_cast<int>(*s) + 1 : 0; };
  std::stable_sort(r.fleet->instances.begin(), r.fleet->instances.end(),
                   [&](const FleetInstance& a, const FleetInstance& b) {
                     if (rank(a.severity) != rank(b.severity)) return rank(a.severity) > rank(b.severity);
                     if (top_share[a.name] != top_share[b.name]) return top_share[a.name] > top_share[b.name];
                     return a.name < b.name;
                   });
}

size_t Fleet::instances_of(std::optional<Category> c) const {
  return static_cast<size_t>(
      std::count_if(instances.begin(), instances.end(), [&](const FleetInstance& i) { return i.category == c; }));
}

}  // namespace cp
