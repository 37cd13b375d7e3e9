#include "probes/probe.hpp"

#include <algorithm>
#include <thread>

namespace cp {

void sample_through_window(const CollectContext& ctx, double interval_s,
                           const std::function<void(double)>& sample) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_s));
  do {
    auto t0 = Clock::now();
    sample(std::chrono::duration<double>(t0 - started).count());
    auto next = std::min(t0 + period, ctx.window_end);
    if (next > Clock::now()) std::this_thread::sleep_until(next);
  } while (Clock::now() < ctx.window_end);
}

double interval_option(const CollectContext& ctx, std::string_view probe, std::string_view option,
                       double default_ms, double min_ms) {
  double ms = ctx.settings ? ctx.settings->probe_option(probe, option, default_ms) : default_ms;
  return std::max(ms, min_ms) / 1000.0;
}

}  // namespace cp
