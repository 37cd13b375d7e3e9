// Percentiles from a log-bucketed histogram (about 1 % relative error), never from averages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cp {

// Observations whose value lies in [lower, upper).
struct HistogramBin {
  double lower = 0, upper = 0;
  uint64_t count = 0;
};

class Histogram {
 public:
  void add(double value);  // any non-negative value; the unit is the caller's
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : 0; }
  double max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  double percentile(double p) const;  // p in [0,100]; 0 when empty
  // The non-empty buckets in ascending order. When the values span more than `max_bins` buckets,
  // runs of equally many adjacent buckets (equal widths on the log scale) are merged so that at
  // most `max_bins` remain; counts are exact and add up to count().
  std::vector<HistogramBin> bins(size_t max_bins = 30) const;

 private:
  static int bucket_of(double v);
  static double bucket_value(int index);
  static double bucket_lower(size_t index);
  static double bucket_upper(size_t index);
  std::vector<uint64_t> buckets_;  // index 0 holds zeros and values below the resolution
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
};

}  // namespace cp
