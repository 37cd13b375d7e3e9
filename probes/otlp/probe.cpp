#include "probes/otlp/probe.hpp"

#include <fmt/format.h>

#include "probes/otlp/collector.hpp"
#include "probes/otlp/snapshot.hpp"
#include "probes/traces/collector.hpp"
#include "probes/traces/rules.hpp"

namespace cp {

namespace {

std::string describe_otlp_target(const std::string&, const std::vector<std::string>& specs,
                                 std::vector<std::string>&) {
  const std::string& spec = specs.front();
  return otlp::parse_listen(spec).display();
}

// The receiver's counters: in the report as metrics, and as a note when anything was refused.
void add_receiver_counts(Judgement& j, const otlp::ReceiverStats& r, const Target& target) {
  std::map<std::string, std::string> labels = {{"target", target.name}};
  j.metrics.push_back({"otlp.spans_received", r.spans_received, "spans", labels});
  j.metrics.push_back({"otlp.spans_rejected", r.spans_rejected, "spans", labels});
  j.metrics.push_back({"otlp.spans_dropped", r.spans_dropped, "spans", labels});
  j.metrics.push_back({"otlp.exports_accepted", r.exports_accepted, "exports", labels});
  double refused = r.exports_malformed + r.exports_too_large + r.exports_throttled + r.exports_unsupported;
  j.metrics.push_back({"otlp.exports_refused", refused, "exports", labels});
  j.notes.push_back(fmt::format(
      "received {:.0f} spans in {:.0f} exports ({:.0f} protobuf, {:.0f} JSON) over {:.0f} connections",
      r.spans_received, r.exports_accepted, r.exports_protobuf, r.exports_json, r.connections));
  if (refused > 0)
    j.notes.push_back(
        fmt::format("refused {:.0f} exports: {:.0f} malformed (400), {:.0f} too large (413), {:.0f} "
                    "throttled (429, {:.0f} spans "
                    "dropped), {:.0f} wrong path/method/type; {:.0f} spans rejected; last: {}",
                    refused, r.exports_malformed, r.exports_too_large, r.exports_throttled, r.spans_dropped,
                    r.exports_unsupported, r.spans_rejected, r.last_error));
  if (r.exports_unanalysed > 0)
    j.notes.push_back(
        fmt::format("the run was interrupted: {:.0f} accepted exports still queued were not analysed",
                    r.exports_unanalysed));
  if (!otlp::parse_listen(r.listen.empty() ? target.name : r.listen).loopback())
    j.notes.push_back("listened on a non-loopback address: anything that reaches it could send spans");
}

// The receiver's limits beside the trace analysis' options it shares with --traces.
std::map<std::string, double, std::less<>> receiver_options() {
  auto options = traces::analysis_options();
  options.insert({{"max_body_mb", 16}, {"queue_mb", 64}, {"max_connections", 64}});
  return options;
}

Judgement judge_otlp_snapshot(const nlohmann::json& snapshot, const Target& target,
                              const Settings& settings) {
  auto snap = snapshot.get<otlp::Snapshot>();
  // The spans arrived during the receiver's window: the one every live probe shares.
  if (snap.receiver.window_s > 0) snap.traces.window_s = snap.receiver.window_s;
  Judgement j = traces::judge(snap.traces, target, settings);
  add_receiver_counts(j, snap.receiver, target);
  return j;
}

}  // namespace

ProbeKind otlp_probe() {
  return {
      "otlp",
      {{"--otlp-listen", "ADDR:PORT",
        "receive OTLP/HTTP trace exports (POST /v1/traces, protobuf or JSON, gzip) during the window; "
        "a port alone listens on loopback"}},
      {Category::database, Category::network, Category::code},
      true,
      describe_otlp_target,
      otlp::collect,
      judge_otlp_snapshot,
      traces::rule_declarations().judged_only(),  // the traces rules, declared there
      receiver_options(),
  };
}

}  // namespace cp
