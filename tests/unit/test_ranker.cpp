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
