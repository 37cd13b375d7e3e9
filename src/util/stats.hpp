// Percentiles from a log-bucketed histogram (about 1 % relative error), never from averages.
#pragma once
#include <cstdint>
#include <vector>


namespace cp {

class Histogram {
 public:
  void add(double value);  // any non-negative value; the unit is the caller's
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : 0; }
  double max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  double percentile(double p) const;  // p in [0,100]; 0 when empty

 private:
  static int bucket_of(double v);
  static double bucket_value(int index);
  std::vector<uint64_t> buckets_;  // index 0 holds zeros and values below the resolution
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
};

}  // namespace cp
