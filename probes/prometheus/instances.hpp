// From the engine's aggregated results to the snapshots the direct probes judge: one cgroup
// snapshot per container (cAdvisor), one host snapshot per node (node_exporter), one PostgreSQL
// snapshot per server (postgres_exporter), one Redis snapshot per server (redis_exporter). The
// same rules and thresholds then judge each instance (PgBouncer pools and blackbox HTTP probes too:
// instances_pools.cpp). Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "probes/host/snapshot.hpp"
#include "probes/http/snapshot.hpp"
#include "probes/pgbouncer/snapshot.hpp"
#include "probes/postgres/snapshot.hpp"
#include "probes/prometheus/snapshot.hpp"
#include "probes/redis/snapshot.hpp"

namespace cp::prom {

// One query's samples by instance key (the family's key labels' values).
class Results {
 public:
  explicit Results(const Snapshot& snap);
  // Whether the query was sent and answered.
  bool has(const std::string& id) const;
  // The value of query `id` for the instance `key`; nullopt when it has none. `extra` picks one of
  // the instance's samples by a label beyond the keys ("mode", "state").
  std::optional<double> value(const std::string& id, const std::string& key) const;
  std::optional<double> value(const std::string& id, const std::string& key, const std::string& label,
                              const std::string& label_value) const;
  // Every sample of query `id` for the instance, with the labels beyond the keys.
  std::vector<const Sample*> samples(const std::string& id, const std::string& key) const;
  // The instances of a family: the key of every sample its presence query returned, with its labels,
  // in key order.
  std::map<std::string, std::map<std::string, std::string>> instances(const std::string& family) const;

 private:
  std::map<std::string, std::multimap<std::string, const Sample*>> by_query_;
};

// The instance key of `labels` for `family` (its key labels' values, joined).
std::string instance_key(const std::string& family, const std::map<std::string, std::string>& labels);
// An instance's identity: its address ("10.0.0.5:9100", the probed URL), or a container's
// "namespace/pod/container".
std::string instance_id(const std::string& family, const std::map<std::string, std::string>& labels);
// What a report calls an instance: "pod shop/checkout-7d9f8-abcde/app", "node 10.0.0.5:9100" …
std::string instance_name(const std::string& family, const std::map<std::string, std::string>& labels);

host::Snapshot container_snapshot(const Results& r, const std::string& key, const std::string& id,
                                  double range_s);
host::Snapshot node_snapshot(const Results& r, const std::string& key, const std::string& id, double range_s);
pg::Snapshot postgres_snapshot(const Results& r, const std::string& key, const std::string& id,
                               double range_s);
redis::Snapshot redis_snapshot(const Results& r, const std::string& key, double range_s);
// instances_pools.cpp: a PgBouncer's pools (pgbouncer_exporter), a blackbox HTTP probe's target.
pgb::Snapshot pgbouncer_snapshot(const Results& r, const std::string& key, double range_s);
http::Snapshot http_snapshot(const Results& r, const std::string& key, const std::string& url, double range_s);

}  // namespace cp::prom
