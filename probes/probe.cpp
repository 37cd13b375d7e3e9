#include "probes/probe.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace cp {

const Settings& CollectContext::config() const {
  static const Settings defaults;
  return settings ? *settings : defaults;
}

double CollectContext::option(std::string_view probe, std::string_view name) const {
  return config().probe_option(probe, name, declared_option(probe, name));
}

double CollectContext::measured_window(std::chrono::steady_clock::time_point started) const {
  return cumulative() ? 0 : std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

bool RuleDeclarations::judges(std::string_view id) const {
  return std::find(judged.begin(), judged.end(), id) != judged.end();
}

RuleDeclarations RuleDeclarations::judged_only() const {
  RuleDeclarations d = *this;
  d.declared.clear();
  d.gated.clear();
  return d;
}

bool CollectContext::window_open() const {
  return std::chrono::steady_clock::now() < window_end && !was_interrupted();
}

void CollectContext::sleep_until(std::chrono::steady_clock::time_point t) const {
  using Clock = std::chrono::steady_clock;
  t = std::min(t, window_end);
  while (Clock::now() < t && !was_interrupted())
    std::this_thread::sleep_until(std::min(t, Clock::now() + std::chrono::milliseconds(50)));
}

void sample_through_window(const CollectContext& ctx, double interval_s,
                           const std::function<void(double)>& sample,
                           const std::function<bool()>& wants_more) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_s));
  do {
    auto t0 = Clock::now();
    sample(std::chrono::duration<double>(t0 - started).count());
    ctx.sleep_until(t0 + period);
  } while (ctx.window_open() && (!wants_more || wants_more()));
}

double interval_option(const CollectContext& ctx, std::string_view probe, std::string_view option,
                       double min_ms) {
  return std::max(ctx.option(probe, option), min_ms) / 1000.0;
}

double declared_option(std::string_view probe, std::string_view name) {
  const ProbeKind* kind = find_probe_kind(probe);
  if (!kind) throw std::logic_error(fmt::format("no probe \"{}\"", probe));
  auto it = kind->options.find(name);
  if (it == kind->options.end())
    throw std::logic_error(fmt::format("the {} probe declares no option \"{}\"", probe, name));
  return it->second;
}

}  // namespace cp
