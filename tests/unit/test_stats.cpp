#include <doctest/doctest.h>

#include <cmath>

#include "util/format.hpp"
#include "util/stats.hpp"

using namespace cp;

TEST_CASE("histogram percentiles are within 1 % of the exact ones") {
  Histogram h;
  for (int i = 1; i <= 10000; ++i) h.add(i * 0.1);  // 0.1 … 1000 ms
  CHECK(h.count() == 10000);
  CHECK(h.percentile(50) == doctest::Approx(500).epsilon(0.01));
  CHECK(h.percentile(95) == doctest::Approx(950).epsilon(0.01));
  CHECK(h.percentile(99) == doctest::Approx(990).epsilon(0.01));
  CHECK(h.percentile(100) == doctest::Approx(1000).epsilon(0.01));
  CHECK(h.max() == 1000);
  CHECK(h.mean() == doctest::Approx(500.05));
}

TEST_CASE("histogram: a bimodal distribution is not averaged away") {
  Histogram h;
  for (int i = 0; i < 90; ++i) h.add(1);
  for (int i = 0; i < 10; ++i) h.add(400);
  CHECK(h.percentile(50) == doctest::Approx(1).epsilon(0.01));
  CHECK(h.percentile(95) == doctest::Approx(400).epsilon(0.01));
}

TEST_CASE("histogram ignores what is not a duration") {
  Histogram a;
  a.add(-1);
  a.add(std::nan(""));
  a.add(INFINITY);
  CHECK(a.count() == 0);
  CHECK(a.percentile(99) == 0);
  a.add(0);
  a.add(10);
  CHECK(a.count() == 2);
  CHECK(a.max() == 10);
  CHECK(a.min() == 0);
}

TEST_CASE("histogram bins: a narrow span bucket by bucket, a wide one merged to at most 30, counts exact") {
  Histogram narrow;  // 100 … 110: about ten 1 % buckets
  for (double v : {100.0, 100.0, 104.0, 109.5}) narrow.add(v);
  auto bins = narrow.bins();
  REQUIRE(bins.size() == 3);
  CHECK(bins[0].count == 2);
  for (const auto& b : bins) CHECK(b.upper / b.lower == doctest::Approx(1.01));  // one 1 % bucket each
  CHECK((bins[0].lower <= 100.0 && 100.0 < bins[0].upper));
  CHECK((bins[2].lower <= 109.5 && 109.5 < bins[2].upper));

  Histogram few;  // 2 … 900 ms, four values: three wide bars, not three 1 % slivers
  for (double v : {2.0, 2.0, 40.0, 900.0}) few.add(v);
  bins = few.bins();
  REQUIRE(bins.size() == 3);
  CHECK(bins[0].count == 2);
  CHECK(bins[0].upper / bins[0].lower > 1.2);
  CHECK((bins[0].lower <= 2.0 && 2.0 < bins[0].upper));
  CHECK((bins[2].lower <= 900.0 && 900.0 < bins[2].upper));

  Histogram many;
  for (int i = 1; i <= 10000; ++i) many.add(i * 0.1);  // 0.1 … 1000 ms: ~930 filled buckets
  bins = many.bins();
  CHECK(bins.size() <= 30);
  CHECK(bins.size() >= 25);
  CHECK(bins[20].upper / bins[20].lower == doctest::Approx(bins[10].upper / bins[10].lower));  // log-uniform
  uint64_t total = 0;
  for (size_t i = 0; i < bins.size(); ++i) {
    total += bins[i].count;
    CHECK(bins[i].lower < bins[i].upper);
    if (i > 0) CHECK(bins[i].lower >= bins[i - 1].upper);
  }
  CHECK(total == many.count());
  CHECK(bins.front().lower <= 0.1);
  CHECK(bins.back().upper > 1000);

  Histogram zeros;
  zeros.add(0);
  zeros.add(0.0005);
  REQUIRE(zeros.bins().size() == 1);
  CHECK(zeros.bins()[0].lower == 0);
  CHECK(zeros.bins()[0].count == 2);
  CHECK(Histogram().bins().empty());
}

TEST_CASE("human formats") {
  CHECK(human_count(950) == "950");
  CHECK(human_count(1000000) == "1.0M");
  CHECK(human_ms(604.9) == "604.9 ms");
  CHECK(human_ms(12300) == "12.3 s");
  CHECK(percent(0.812) == "81 %");
  CHECK(one_line("SELECT  *\n FROM t", 100) == "SELECT * FROM t");
  CHECK(one_line("abcdef", 4) == "abc…");
}
