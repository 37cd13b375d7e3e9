#include <doctest/doctest.h>

#include "core/ranker.hpp"

using namespace cp;

namespace {

Finding finding(Category c, Severity s, double share, const std::string& id = "f") {
  Finding f;
  f.id = id;
  f.category = c;
  f.severity = s;
  f.impact.share = share;
  f.title = "title of " + id;
  return f;
}

std::map<Category, Coverage> examined(std::initializer_list<Category> cats) {
  std::map<Category, Coverage> out;
  for (Category c : kCategories) out[c] = {false, "no target"};
  for (Category c : cats) out[c] = {true, ""};
  return out;
}

double probability(const Ranking& r, Category c) {
  for (const auto& e : r.entries)
    if (e.category == c) return e.probability;
  return -1;
}

double sum(const Ranking& r) {
  double s = 0;
  for (const auto& e : r.entries) s += e.probability;
  return s;
}

}  // namespace

TEST_CASE("no findings: verdict none, probabilities still sum to 1, unexamined categories named") {
  std::vector<Finding> none;
  auto r = rank({&none, examined({Category::database}), {}});
  CHECK_FALSE(r.verdict.category);
  CHECK(r.verdict.headline.find("No bottleneck found in database") != std::string::npos);
  CHECK(r.verdict.headline.find("network") != std::string::npos);
  CHECK(sum(r) == doctest::Approx(1.0).epsilon(1e-9));
  REQUIRE(r.entries.size() == 4);
  for (const auto& e : r.entries) CHECK(e.examined == (e.category == Category::database));
}

TEST_CASE("a critical database finding wins and leads the headline") {
  std::vector<Finding> fs = {finding(Category::database, Severity::critical, 0.8, "idx")};
  auto r = rank({&fs, examined({Category::database}), {}});
  REQUIRE(r.verdict.category);
  CHECK(*r.verdict.category == Category::database);
  CHECK(r.verdict.confidence > 0.9);
  CHECK(r.verdict.headline == "title of idx");
  CHECK(r.entries.front().category == Category::database);
  CHECK(r.entries.front().findings == std::vector<std::string>{"idx"});
}

TEST_CASE("evidence outweighs the prior: a strong network finding beats a weak database one") {
  std::vector<Finding> fs = {finding(Category::database, Severity::low, 0.1, "d"),
                             finding(Category::network, Severity::critical, 0.85, "n")};
  auto r = rank({&fs, examined({Category::database, Category::network, Category::code}), {}});
  REQUIRE(r.verdict.category);
  CHECK(*r.verdict.category == Category::network);
  CHECK(probability(r, Category::network) > probability(r, Category::database));
}

TEST_CASE("equal evidence: the prior (base rates) decides") {
  std::vector<Finding> fs = {finding(Category::database, Severity::high, 0.5, "d"),
                             finding(Category::infrastructure, Severity::high, 0.5, "i")};
  auto all = examined({Category::database, Category::network, Category::code, Category::infrastructure});
  auto r = rank({&fs, all, {}});
  CHECK(*r.verdict.category == Category::database);
}

TEST_CASE("measured time attribution moves the ranking") {
  std::vector<Finding> fs = {finding(Category::database, Severity::medium, 0.3, "d"),
                             finding(Category::code, Severity::medium, 0.3, "c")};
  auto cats = examined({Category::database, Category::network, Category::code});
  auto without = rank({&fs, cats, {}});
  auto with = rank({&fs, cats, {{Category::code, 0.9}, {Category::database, 0.05}}});
  CHECK(*without.verdict.category == Category::database);
  CHECK(*with.verdict.category == Category::code);
}

TEST_CASE("low findings alone do not make a verdict") {
  std::vector<Finding> fs = {finding(Category::database, Severity::low, 0.2, "d")};
  auto r = rank({&fs, examined({Category::database}), {}});
  CHECK_FALSE(r.verdict.category);
  CHECK(r.verdict.confidence < 1.0);
}

// The documented model (src/core/README.md, "The ranker"): its worked cases and its boundaries.
namespace {

auto all_examined() {
  return examined({Category::database, Category::network, Category::code, Category::infrastructure});
}

Ranking rank_of(std::vector<Finding>& fs, std::map<Category, double> attribution = {}) {
  return rank({&fs, all_examined(), std::move(attribution)});
}

}  // namespace

TEST_CASE("ranker worked cases of the README") {
  using C = Category;
  using S = Severity;
  struct Case {
    const char* name;
    std::vector<Finding> findings;
    std::map<Category, double> attribution;
    C verdict;
    double probability;
  };
  std::vector<Case> cases = {
      {"throttled app, reconciled",
       {finding(C::infrastructure, S::critical, 1.0, "i"), finding(C::database, S::medium, 0.6, "d")},
       {{C::infrastructure, 1.0}, {C::database, 0.2}},
       C::infrastructure,
       0.99},
      {"maximal infrastructure vs a full database medium",
       {finding(C::infrastructure, S::critical, 1.0, "i"), finding(C::database, S::medium, 1.0, "d")},
       {{C::infrastructure, 1.0}, {C::database, 1.0}},
       C::infrastructure,
       0.96},
      {"critical without attribution vs medium with all of it",
       {finding(C::infrastructure, S::critical, 1.0, "i"), finding(C::database, S::medium, 1.0, "d")},
       {{C::database, 1.0}},
       C::infrastructure,
       0.86},
      {"equal evidence",
       {finding(C::database, S::high, 0.5, "d"), finding(C::infrastructure, S::high, 0.5, "i")},
       {},
       C::database,
       0.93},
      {"high vs medium, full shares",
       {finding(C::infrastructure, S::high, 1.0, "i"), finding(C::database, S::medium, 1.0, "d")},
       {},
       C::infrastructure,
       0.53},
      {"one critical vs three mediums",
       {finding(C::infrastructure, S::critical, 1.0, "i"), finding(C::database, S::medium, 1.0, "d1"),
        finding(C::database, S::medium, 1.0, "d2"), finding(C::database, S::medium, 1.0, "d3")},
       {},
       C::database,
       0.66},
      {"code hotspot on the path",
       {finding(C::code, S::high, 0.6, "c"), finding(C::database, S::medium, 0.3, "d")},
       {{C::code, 0.6}, {C::database, 0.3}, {C::network, 0.1}},
       C::code,
       0.77},
  };
  for (auto& c : cases) {
    CAPTURE(c.name);
    auto r = rank_of(c.findings, c.attribution);
    REQUIRE(r.verdict.category);
    CHECK(*r.verdict.category == c.verdict);
    CHECK(r.verdict.confidence == doctest::Approx(c.probability).epsilon(0.01));
  }
}

TEST_CASE("ranker boundaries: the strongest finding of any category beats a medium of any other") {
  for (Category strong : kCategories)
    for (Category medium : kCategories) {
      if (strong == medium) continue;
      CAPTURE(to_string(strong));
      CAPTURE(to_string(medium));
      std::vector<Finding> fs = {finding(strong, Severity::critical, 1.0, "s"),
                                 finding(medium, Severity::medium, 1.0, "m")};
      // With its own attribution measured, against the medium's.
      auto measured = rank_of(fs, {{strong, 0.6}, {medium, 0.4}});
      CHECK(*measured.verdict.category == strong);
      // Without any attribution of its own, against the medium holding all of it.
      auto unmeasured = rank_of(fs, {{medium, 1.0}});
      CHECK(*unmeasured.verdict.category == strong);
      // One step lower on each side (high vs low) the same holds: severity, not the prior, decides.
      std::vector<Finding> lower = {finding(strong, Severity::high, 1.0, "s"),
                                    finding(medium, Severity::low, 1.0, "m")};
      CHECK(*rank_of(lower).verdict.category == strong);
    }
}

TEST_CASE("ranker boundaries: equal evidence goes to the prior, every category can win alone") {
  for (Category a : kCategories)
    for (Category b : kCategories) {
      if (a == b) continue;
      std::vector<Finding> fs = {finding(a, Severity::high, 0.5, "a"), finding(b, Severity::high, 0.5, "b")};
      CHECK(*rank_of(fs).verdict.category == (prior(a) > prior(b) ? a : b));
    }
  for (Category c : kCategories) {
    std::vector<Finding> fs = {finding(c, Severity::medium, 0.5, "f")};
    auto r = rank_of(fs);
    REQUIRE(r.verdict.category);
    CHECK(*r.verdict.category == c);
    CHECK(r.verdict.confidence > 0.75);  // the unexamined-nothing of the likelier categories weighs
  }
}
