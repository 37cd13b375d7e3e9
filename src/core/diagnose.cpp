#include "core/diagnose.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "core/advice.hpp"
#include "core/error.hpp"
#include "core/fleet.hpp"
#include "core/ranker.hpp"
#include "core/reconcile.hpp"
#include "util/cpus.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace cp {

namespace {

using Clock = std::chrono::steady_clock;

Collected collect_one(const ProbeKind& kind, const Target& target, const CollectContext& ctx) {
  try {
    return kind.collect(target, ctx);
  } catch (const std::exception& e) {
    // A collector should return its errors as values; this keeps one bug from losing the run.
    return {ProbeStatus::error,
            scrub(fmt::format("{} probe failed: {}", kind.name, e.what()), target.secrets),
            {}};
  }
}

std::string flags_for(Category c) {
  std::vector<std::string> flags;
  for (const auto& k : probe_kinds())
    if (std::find(k.examines.begin(), k.examines.end(), c) != k.examines.end())
      for (const auto& f : k.flags) flags.emplace_back(f.flag);
  if (flags.empty()) return "no probe for this category yet";
  std::string out = "no ";
  for (size_t i = 0; i < flags.size(); ++i)
    out += (i ? (i + 1 == flags.size() ? " or " : ", ") : "") + flags[i];
  return out + " target given";
}

std::map<Category, Coverage> coverage_of(const Report& r) {
  std::map<Category, Coverage> out;
  for (Category c : kCategories) {
    Coverage cov;
    std::vector<std::string> failures;
    for (const auto& p : r.probes) {
      const ProbeKind* kind = find_probe_kind(p.name);
      if (!kind || std::find(kind->examines.begin(), kind->examines.end(), c) == kind->examines.end())
        continue;
      if (p.status == ProbeStatus::ok)
        cov.examined = true;
      else
        failures.push_back(fmt::format("{} {} failed: {}", p.name, p.target, p.message));
    }
    if (!cov.examined) cov.reason = failures.empty() ? flags_for(c) : failures.front();
    out[c] = cov;
  }
  return out;
}

// A long window sampled often would make every series (and the pages drawn from it) huge; runs of
// neighbouring points are merged, keeping each run's highest value: peaks are what a reader looks for.
constexpr size_t kMaxSeriesPoints = 1000;

Series keep_peaks(Series s, size_t max_points) {
  if (s.points.size() <= max_points) return s;
  size_t run = (s.points.size() + max_points - 1) / max_points;
  std::vector<std::pair<double, double>> merged;
  for (size_t i = 0; i < s.points.size(); i += run) {
    auto peak = s.points[i];
    for (size_t k = i; k < std::min(i + run, s.points.size()); ++k)
      if (s.points[k].second > peak.second) peak.second = s.points[k].second;
    merged.push_back(peak);
  }
  s.points = std::move(merged);
  return s;
}

// A probe that ran OK must carry its measurements: without them its rules see nothing and the
// replay would read as healthy.
void require_sections(const nlohmann::json& probe, const Target& target) {
  std::vector<std::string> missing;
  const ProbeKind* kind = find_probe_kind(target.kind);
  auto snapshot = probe.find("snapshot");
  if (snapshot == probe.end() || !snapshot->is_object()) {
    missing.emplace_back("snapshot");
  } else if (kind) {
    for (auto section : kind->required_sections)
      if (!snapshot->contains(section)) missing.emplace_back("snapshot." + std::string(section));
  }
  if (!missing.empty())
    throw InputError(fmt::format("the {} probe of {} has status ok but no {}: its measurements were removed",
                                 target.kind, target.name, fmt::join(missing, ", ")));
}

}  // namespace

bool any_live(const std::vector<Target>& targets) {
  return std::any_of(targets.begin(), targets.end(), [](const Target& t) {
    const ProbeKind* k = find_probe_kind(t.kind);
    return k && k->live;
  });
}

double effective_window(const std::vector<Target>& targets, double window_s) {
  return any_live(targets) ? window_s : 0;
}

Evidence collect_evidence(const std::vector<Target>& targets, double window_s, unsigned reader_threads, const Settings& settings,
                          const ProgressFn& progress, const std::atomic<bool>* interrupted) {
  Evidence ev;
  ev.run.started_at = rfc3339_utc(std::chrono::system_clock::now());
  window_s = effective_window(targets, window_s);
  ev.run.window_s = window_s;
  auto start = Clock::now();
  CollectContext ctx;
  ctx.window_s = window_s;
  ctx.threads = reader_threads ? reader_threads : usable_cpus();
  ctx.window_end = start + std::chrono::milliseconds(static_cast<int64_t>(window_s * 1000));
  ctx.settings = &settings;
  ctx.interrupted = interrupted;

  ev.entries.resize(targets.size());
  std::atomic<size_t> running{targets.size()};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      auto t0 = Clock::now();
      const ProbeKind* kind = find_probe_kind(targets[i].kind);
      ev.entries[i].target = targets[i];
      ev.entries[i].collected = kind ? collect_one(*kind, targets[i], ctx)
                                     : Collected{ProbeStatus::error, "unknown probe " + targets[i].kind, {}};
      ev.entries[i].duration_ms = ms_since(t0);
      --running;
    });
  }
  if (progress) {
    while (running.load() > 0) {
      progress(ms_since(start) / 1000.0, window_s, running.load(), targets.size());
      for (int i = 0; i < 10 && running.load() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    progress(ms_since(start) / 1000.0, window_s, 0, targets.size());
  }
  for (auto& t : threads) t.join();
  for (auto& e : ev.entries) {
    e.target.specs.clear();  // never kept beyond collection
    e.target.options.clear();
    e.target.secrets.clear();
  }
  ev.run.duration_ms = ms_since(start);
  ev.run.interrupted = interrupted && interrupted->load();
  return ev;
}

nlohmann::json evidence_to_json(const Evidence& ev) {
  nlohmann::json doc;
  doc["format"] = "chokepoint-evidence";
  doc["version"] = 1;
  doc["run"] = {{"started_at", ev.run.started_at},
                {"window_s", ev.run.window_s},
                {"duration_ms", ev.run.duration_ms},
                {"interrupted", ev.run.interrupted}};
  doc["probes"] = nlohmann::json::array();
  for (const auto& e : ev.entries)
    doc["probes"].push_back({{"kind", e.target.kind},
                             {"flag", e.target.flag},
                             {"target", e.target.name},
                             {"status", to_string(e.collected.status)},
                             {"message", e.collected.message},
                             {"duration_ms", e.duration_ms},
                             {"snapshot", e.collected.snapshot}});
  return doc;
}

Evidence evidence_from_json(const nlohmann::json& doc) {
  if (!doc.is_object() || doc.value("format", "") != "chokepoint-evidence")
    throw UsageError("not a chokepoint evidence file (written by diagnose --save-evidence)");
  if (doc.value("version", 0) != 1)
    throw UsageError(fmt::format("unsupported evidence version {}", doc.value("version", 0)));
  Evidence ev;
  const auto& run = doc.value("run", nlohmann::json::object());
  ev.run.started_at = run.value("started_at", "");
  ev.run.window_s = run.value("window_s", 0.0);
  ev.run.duration_ms = run.value("duration_ms", 0.0);
  ev.run.replayed = true;
  ev.run.interrupted = run.value("interrupted", false);
  for (const auto& p : doc.value("probes", nlohmann::json::array())) {
    Evidence::Entry e;
    e.target.kind = p.value("kind", "");
    if (!find_probe_kind(e.target.kind))
      throw UsageError("evidence file names an unknown probe \"" + e.target.kind + "\"");
    e.target.flag = p.value("flag", "");
    // Written by another tool or by hand, an evidence file may hold what chokepoint never writes.
    e.target.name = redact_url(p.value("target", ""));
    e.collected.status = p.value("status", "ok") == "ok" ? ProbeStatus::ok : ProbeStatus::error;
    e.collected.message = redact_urls_in_text(p.value("message", ""));
    e.collected.snapshot = p.value("snapshot", nlohmann::json::object());
    // Texts an older chokepoint stored as they were are made safe before anything reads or saves them.
    if (const ProbeKind* kind = find_probe_kind(e.target.kind); kind && kind->keep_texts_safe)
      kind->keep_texts_safe(e.collected.snapshot);
    e.duration_ms = p.value("duration_ms", 0.0);
    if (e.collected.status == ProbeStatus::ok) require_sections(p, e.target);
    ev.entries.push_back(std::move(e));
  }
  if (ev.entries.empty()) throw InputError("the evidence file holds no probe");
  return ev;
}

namespace {

// A probe's findings (each naming its probe, and its target unless a fleet's names the instance)
// and its fleet, into the report.
void add_findings(Report& r, Judgement& j, const Target& target) {
  for (auto& f : j.findings) {
    f.probe = target.kind;
    if (f.target.empty()) f.target = target.name;
    r.findings.push_back(std::move(f));
  }
  if (j.fleet) merge_fleet(r.fleet, std::move(*j.fleet));
}

}  // namespace

Report judge_evidence(const Evidence& ev, const Settings& settings) {
  Report r;
  r.run = ev.run;
  std::map<Category, double> attribution;
  double measured_sum = 0;
  std::vector<std::string> too_little;
  LeverInputs levers;
  std::vector<ProbeView> views;
  for (const auto& e : ev.entries) {
    r.targets.push_back({e.target.kind, e.target.name});
    ProbeResult pr{e.target.kind, e.target.name, e.collected.status, e.collected.message, {}, e.duration_ms};
    const ProbeKind* kind = find_probe_kind(e.target.kind);
    if (kind && pr.status == ProbeStatus::ok) {
      try {
        Settings target_settings = settings.for_target(e.target.name);
        Judgement j = kind->judge(e.collected.snapshot, e.target, target_settings);
        apply_rule_settings(j.findings, target_settings);
        add_findings(r, j, e.target);
        pr.notes = std::move(j.notes);
        for (auto& m : j.metrics) r.metrics.push_back(std::move(m));
        for (auto& b : j.breakdowns) r.breakdowns.push_back(std::move(b));
        for (auto& s : j.series) {
          s.labels.emplace("target", e.target.name);
          r.series.push_back(keep_peaks(std::move(s), kMaxSeriesPoints));
        }
        for (auto [c, share] : j.attribution) attribution[c] = std::max(attribution[c], share);
        measured_sum += std::clamp(j.measured, 0.0, 1.0);
        if (!j.too_little.empty()) too_little.push_back(e.target.kind + ": " + j.too_little);
        levers.append(std::move(j.levers));
        views.push_back({e.target.kind, e.target.name, std::move(j.crosscheck)});
      } catch (const nlohmann::json::exception& ex) {
        pr.status = ProbeStatus::error;
        pr.message = fmt::format("the {} snapshot is unreadable: {}", kind->name, ex.what());
      } catch (const std::exception& ex) {
        // Evidence edited by hand can hold what no collector writes; one probe's rules failing on it
        // must not lose the other probes' judgement.
        pr.status = ProbeStatus::error;
        pr.message = fmt::format("the {} snapshot could not be judged: {}", kind->name, ex.what());
      }
    }
    if (pr.status != ProbeStatus::ok) too_little.push_back(e.target.kind + " could not examine its target");
    r.probes.push_back(std::move(pr));
  }
  reconcile(r, views, attribution);
  std::stable_sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.impact.share.value_or(0) > b.impact.share.value_or(0);
  });
  double measured = ev.entries.empty() ? 0 : measured_sum / static_cast<double>(ev.entries.size());
  Ranking ranking = rank({&r.findings, coverage_of(r), attribution, measured, too_little});
  r.ranking = std::move(ranking.entries);
  r.verdict = std::move(ranking.verdict);
  r.advice = advise(levers, r, settings);
  summarize_fleet(r);
  return r;
}

}  // namespace cp
