// The text report: wrapped to the terminal's width, unexamined categories apart from the bars,
// confidence qualified by coverage.
#include <doctest/doctest.h>

#include <sstream>

#include "core/diagnose.hpp"
#include "harness.hpp"
#include "render/render.hpp"
#include "util/format.hpp"

using namespace cp;

namespace {

Report judged(const std::string& fixture) {
  return judge_evidence(evidence_from_json(test::fixture(fixture)), {});
}

size_t widest_line(const std::string& text, const std::string& except_prefix = "\x01") {
  std::istringstream lines(text);
  size_t widest = 0;
  for (std::string line; std::getline(lines, line);)
    if (line.find(except_prefix) == std::string::npos) widest = std::max(widest, display_width(line));
  return widest;
}

std::string section(const std::string& text, const std::string& title) {
  size_t start = text.find(title + "\n");
  REQUIRE(start != std::string::npos);
  size_t end = text.find("\n\n", start);
  return text.substr(start, end - start);
}

}  // namespace

TEST_CASE("text wraps to the width it is given, 100 columns by default") {
  Report r = judged("postgres/missing_index.evidence.json");
  for (size_t width : {60u, 80u, 100u, 160u}) {
    CAPTURE(width);
    RenderOptions o;
    o.width = width;
    // SQL of a fix stays on one line so it can be copied; everything else fits.
    CHECK(widest_line(render_text(r, o), "CREATE INDEX") <= width);
  }
  CHECK(RenderOptions{}.width == 100);
  std::string narrow = render_text(r, RenderOptions{false, 60});
  std::string wide = render_text(r, RenderOptions{false, 160});
  CHECK(std::count(narrow.begin(), narrow.end(), '\n') > std::count(wide.begin(), wide.end(), '\n'));
}

TEST_CASE("word_wrap keeps words whole and counts UTF-8 characters, not bytes") {
  CHECK(word_wrap("aaa bbb ccc", 2, 9) == "  aaa bbb\n  ccc\n");
  CHECK(word_wrap("déjà vu über", 0, 7) == "déjà vu\nüber\n");
  CHECK(word_wrap("averyveryverylongword x", 2, 8) == "  averyveryverylongword\n  x\n");
  CHECK(display_width("\x1b[1;31mred\x1b[0m") == 3);
}

TEST_CASE("ranking bars only for examined categories, the others listed apart, confidence qualified") {
  Report r = judged("postgres/missing_index.evidence.json");  // database only
  std::string text = render_text(r, {});
  CHECK(text.find("VERDICT  DATABASE  (99 % confidence — 3 of 4 categories not examined)") !=
        std::string::npos);
  std::string ranking = section(text, "RANKING");
  CHECK(ranking.find("database") != std::string::npos);
  for (const char* c : {"network", "code ", "infrastructure"}) {
    CAPTURE(c);
    CHECK(ranking.find(std::string("  ") + c) == std::string::npos);
    CHECK(section(text, "NOT EXAMINED").find(c) != std::string::npos);
  }
  CHECK(ranking.find("3 of 4 categories not examined") != std::string::npos);

  Report full = r;  // every category examined: no qualifier, four bars
  for (auto& e : full.ranking) e.examined = true;
  std::string all = render_text(full, {});
  CHECK(all.find("(99 % confidence)") != std::string::npos);
  CHECK(all.find("NOT EXAMINED") == std::string::npos);
  CHECK(std::count(all.begin(), all.end(), '%') >= 5);
}

TEST_CASE("nothing examined: no probability bars at all") {
  Report r = judged("postgres/missing_index.evidence.json");
  r.findings.clear();
  r.verdict = {};
  r.verdict.headline = "Nothing could be examined: see the probes' errors";
  for (auto& e : r.ranking) {
    e.examined = false;
    e.findings.clear();
    e.not_examined_reason = "the probe could not connect";
  }
  std::string text = render_text(r, {});
  std::string ranking = section(text, "RANKING");
  CHECK(ranking.find("█") == std::string::npos);
  CHECK(ranking.find("%") == std::string::npos);
  CHECK(ranking.find("no category could be examined") != std::string::npos);
  CHECK(text.find("VERDICT  NONE\n") != std::string::npos);
}
