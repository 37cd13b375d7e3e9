#include "util/stats.hpp"

#include <algorithm>
#include <cmath>

namespace cp {
namespace {
constexpr double kResolution = 1e-3;  // smallest distinguishable value (1 µs when the unit is ms)
constexpr double kGrowth = 1.01;      // 1 % wide buckets
const double kLogGrowth = std::log(kGrowth);
}  // namespace

int Histogram::bucket_of(double v) {
  if (!(v > kResolution)) return 0;
  return 1 + static_cast<int>(std::log(v / kResolution) / kLogGrowth);
}

double Histogram::bucket_value(int index) {
  if (index == 0) return 0;
  // Midpoint of the bucket [res*g^(i-1), res*g^i).
  return kResolution * std::pow(kGrowth, index - 0.5);
}

void Histogram::add(double value) {
  if (!(value >= 0) || !std::isfinite(value)) return;  // NaN, inf and negatives are not durations
  size_t b = static_cast<size_t>(bucket_of(value));
  if (b >= buckets_.size()) buckets_.resize(b + 1, 0);
  ++buckets_[b];
  min_ = count_ ? std::min(min_, value) : value;
  max_ = count_ ? std::max(max_, value) : value;
  ++count_;
  sum_ += value;
}

void Histogram::merge(const Histogram& other) {
  if (!other.count_) return;
  if (other.buckets_.size() > buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
  for (size_t i = 0; i < other.buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

double Histogram::percentile(double p) const {
  if (!count_) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Nearest-rank: the smallest value with at least p % of observations at or below it.
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(bucket_value(static_cast<int>(i)), min_, max_);
  }
  return max_;
}

nlohmann::ordered_json Histogram::summary() const {
  auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return {{"count", count_},
          {"mean", round3(mean())},
          {"p50", round3(percentile(50))},
          {"p95", round3(percentile(95))},
          {"p99", round3(percentile(99))},
          {"max", round3(max())}};
}

}  // namespace cp
