#include "util/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cp {
namespace {
constexpr double kResolution = 1e-3;  // smallest distinguishable value (1 µs when the unit is ms)
constexpr double kGrowth = 1.01;      // 1 % wide buckets
const double kLog2Resolution = std::log2(kResolution);
const double kLog2Growth = std::log2(kGrowth);

// log2 of a positive normal double from its bits: the exponent, plus log2 of the mantissa from a
// 256-entry table with linear interpolation. The error (< 3e-6) is 0.02 % of a bucket's width;
// a histogram is filled for every span of a trace file, and std::log was a tenth of its cost.
struct Log2Table {
  double v[257];
  Log2Table() {
    for (int i = 0; i <= 256; ++i) v[i] = std::log2(1.0 + i / 256.0);
  }
};
const Log2Table kLog2;

double fast_log2(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
  uint64_t mantissa = bits & ((1ull << 52) - 1);
  size_t i = static_cast<size_t>(mantissa >> 44);  // the top 8 bits
  double within =
      static_cast<double>(mantissa & ((1ull << 44) - 1)) * (1.0 / static_cast<double>(1ull << 44));
  return exponent + kLog2.v[i] + (kLog2.v[i + 1] - kLog2.v[i]) * within;
}
}  // namespace

int Histogram::bucket_of(double v) {
  if (!(v > kResolution)) return 0;
  return 1 + static_cast<int>((fast_log2(v) - kLog2Resolution) / kLog2Growth);
}

double Histogram::bucket_value(int index) {
  if (index == 0) return 0;
  // Midpoint of the bucket [res*g^(i-1), res*g^i).
  return kResolution * std::pow(kGrowth, index - 0.5);
}

// Bucket i > 0 holds [res*g^(i-1), res*g^i); both bounds come from one expression, so a bucket's
// upper bound equals the next one's lower bound exactly.
double Histogram::bucket_upper(size_t index) {
  return kResolution * std::pow(kGrowth, static_cast<double>(index));
}

double Histogram::bucket_lower(size_t index) {
  return index == 0 ? 0 : bucket_upper(index - 1);
}

std::vector<HistogramBin> Histogram::bins(size_t max_bins) const {
  std::vector<HistogramBin> out;
  auto first = std::find_if(buckets_.begin(), buckets_.end(), [](uint64_t n) { return n > 0; });
  if (first == buckets_.end() || max_bins == 0) return out;
  size_t lo = static_cast<size_t>(first - buckets_.begin());
  size_t hi = buckets_.size() - 1;  // the last bucket is never empty: add() grows the vector to it
  size_t width = (hi - lo + max_bins) / max_bins;  // ceil(span / max_bins): 1 for a narrow span
  for (size_t start = lo; start <= hi; start += width) {
    size_t end = std::min(start + width, hi + 1);  // [start, end)
    uint64_t n = 0;
    for (size_t i = start; i < end; ++i) n += buckets_[i];
    if (n > 0) out.push_back({bucket_lower(start), bucket_upper(end - 1), n});
  }
  return out;
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

}  // namespace cp
