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

TEST_CASE("human formats") {
  CHECK(human_count(950) == "950");
  CHECK(human_count(1000000) == "1.0M");
  CHECK(human_ms(604.9) == "604.9 ms");
  CHECK(human_ms(12300) == "12.3 s");
  CHECK(percent(0.812) == "81 %");
  CHECK(one_line("SELECT  *\n FROM t", 100) == "SELECT * FROM t");
  CHECK(one_line("abcdef", 4) == "abc…");
}
