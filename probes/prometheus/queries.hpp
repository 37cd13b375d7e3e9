// The PromQL chokepoint sends: one table of expressions per family of exporter metrics (cAdvisor,
// node_exporter, postgres_exporter, redis_exporter), each aggregated by the engine over the window
// and grouped by the labels that name an instance. Pure: no I/O.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cp::prom {

// A family of exporter metrics and the labels that name one of its instances.
struct FamilySpec {
  std::string_view kind;                   // container | host | postgres | redis
  std::string_view exporter;               // who writes the metrics, for notes
  std::vector<std::string_view> keys;      // labels naming an instance
  std::string_view presence;               // the query id whose metric says the family exists
};
const std::vector<FamilySpec>& families();
const FamilySpec* find_family(std::string_view kind);

// One expression. `names` are the metric's names across exporter versions, preferred first (the
// first the engine has is used). In `expr`: $name (the metric), $sel (the --match matchers),
// $and ("," + matchers, or nothing), $range ("300s"), $by (the family's keys).
struct QuerySpec {
  std::string_view id;      // "container.cpu_periods": the family, a dot, the signal
  std::vector<std::string_view> names;
  std::string_view expr;
};
const std::vector<QuerySpec>& query_catalog();

// The family of a query id ("container.cpu_periods" -> "container").
std::string_view family_of(std::string_view query_id);

// --match '{namespace="shop"}' -> namespace="shop" (throws UsageError when it is not a selector
// of label matchers in braces).
std::string matchers_of(std::string_view selector);

// The PromQL of `q` for `name`, scoped by `matchers`, aggregated over `range_s`.
std::string render_query(const QuerySpec& q, std::string_view name, std::string_view matchers, double range_s);

// The first of `q.names` that `present` holds; "" when none does.
std::string_view pick_name(const QuerySpec& q, const std::set<std::string>& present);

// Request metrics made from spans (spanmetrics): found and named in a note, not judged.
const std::vector<std::string_view>& span_metric_names();

// Every metric name a query may read (what discovery looks for).
std::set<std::string> wanted_names();

}  // namespace cp::prom
