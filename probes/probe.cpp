#include "probes/probe.hpp"

#include <algorithm>
#include <thread>

namespace cp {

bool CollectContext::window_open() const {
  return std::chrono::steady_clock::now() < window_end && !(interrupted && interrupted->load());
}

void CollectContext::sleep_until(std::chrono::steady_clock::time_point t) const {
  using Clock = std::chrono::steady_clock;
  t = std::min(t, window_end);
  while (Clock::now() < t && !(interrupted && interrupted->load()))
    std::this_thread::sleep_until(std::min(t, Clock::now() + std::chrono::milliseconds(50)));
}

void sample_through_window(const CollectContext& ctx, double interval_s,
                           const std::function<void(double)>& sample) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_s));
  do {
    auto t0 = Clock::now();
    sample(std::chrono::duration<double>(t0 - started).count());
    ctx.sleep_until(t0 + period);
  } while (ctx.window_open());
}

double interval_option(const CollectContext& ctx, std::string_view probe, std::string_view option,
                       double default_ms, double min_ms) {
  double ms = ctx.settings ? ctx.settings->probe_option(probe, option, default_ms) : default_ms;
  return std::max(ms, min_ms) / 1000.0;
}

}  // namespace cp
