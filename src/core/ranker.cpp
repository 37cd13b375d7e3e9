#include "core/ranker.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace cp {

double prior(Category c) {
  switch (c) {
    case Category::database:
      return 0.70;
    case Category::network:
      return 0.15;
    case Category::code:
      return 0.10;
    case Category::infrastructure:
      return 0.05;
  }
  return 0;
}

double severity_weight(Severity s) {
  switch (s) {
    case Severity::critical:
      return 0.95;
    case Severity::high:
      return 0.80;
    case Severity::medium:
      return 0.50;
    case Severity::low:
      return 0.20;
    case Severity::info:
      return 0.0;
  }
  return 0;
}

namespace {

// The model (src/core/README.md, "The ranker", with worked cases): weight = prior x evidence x
// attribution, normalized. Evidence is the squared odds of the category's combined strength, so one
// severity step outweighs the largest ratio of priors (0.70 / 0.05 = 14) when the findings' shares are
// alike: measured evidence can move any category past the base rates, which only decide near-ties.
constexpr double kAbsentLikelihood = 0.2;  // examined, nothing found: less likely than the prior
constexpr double kEvidenceGain = 20.0;     // a medium finding covering all of its basis: odds 1
constexpr double kMaxStrength = 0.99;      // odds at most 99: a category never becomes certain
// The verdict never claims more: the model (priors, weights) is not calibrated finer than that.
constexpr double kMaxConfidence = 0.99;

}  // namespace

double finding_weight(const Finding& f) {
  // A finding's share of its basis scales its severity by at most a quarter: how much it covers
  // matters, but a critical finding stays critical.
  double share = std::clamp(f.impact.share.value_or(0.5), 0.0, 1.0);
  return severity_weight(f.severity) * (0.75 + 0.25 * share);
}

double evidence_strength(const std::vector<const Finding*>& findings) {
  double none = 1.0;
  for (const auto* f : findings) none *= 1.0 - finding_weight(*f);
  return 1.0 - none;
}

double evidence_likelihood(double strength) {
  double s = std::clamp(strength, 0.0, kMaxStrength);
  double odds = s / (1 - s);
  return kAbsentLikelihood + kEvidenceGain * odds * odds;
}

double attribution_factor(double share) { return 0.25 + 4.0 * std::clamp(share, 0.0, 1.0); }

namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

std::string none_headline(const std::vector<std::string>& examined,
                          const std::vector<std::string>& unexamined) {
  if (examined.empty()) return "Nothing could be examined: see the probes' errors";
  std::string h = "No bottleneck found in " + join_names(examined);
  if (!unexamined.empty()) h += " (" + join_names(unexamined) + " not examined)";
  return h;
}

bool more_important(const Finding* a, const Finding* b) {
  if (a->severity != b->severity) return a->severity > b->severity;
  return a->impact.share.value_or(0) > b->impact.share.value_or(0);
}

// Rounded to 4 places, with the rounding error given to the largest so the sum stays exactly 1.
void round_keeping_sum(std::vector<RankEntry>& entries) {
  double sum = 0;
  for (auto& e : entries) sum += (e.probability = std::round(e.probability * 1e4) / 1e4);
  entries.front().probability = std::round((entries.front().probability + 1.0 - sum) * 1e4) / 1e4;
}

// Nothing notable: no category, and only as sure as the examined layers are quiet.
Verdict quiet_verdict(const RankerInput& in, double max_strength, const std::vector<std::string>& examined,
                      const std::vector<std::string>& unexamined) {
  Verdict v;
  v.category = std::nullopt;
  double measured = std::clamp(in.measured, 0.0, 1.0);
  v.confidence = examined.empty() ? 0 : std::round((1 - max_strength) * measured * 1e4) / 1e4;
  v.headline = none_headline(examined, unexamined);
  if (!examined.empty() && !in.too_little.empty())
    v.headline += "; too little measured to be sure: " + join_names(in.too_little);
  return v;
}

// No bottleneck, but low findings (a cheap N+1 in a small CI database): the headline says they are
// there to watch, the most important first.
void note_low_findings(Verdict& v, const std::vector<Finding>& findings) {
  const Finding* first = nullptr;
  size_t low = 0;
  for (const auto& f : findings) {
    if (f.severity != Severity::low) continue;
    ++low;
    if (!first || more_important(&f, first)) first = &f;
  }
  if (!first) return;
  v.headline +=
      low == 1 ? "; 1 low finding to watch: " : fmt::format("; {} low findings to watch, first: ", low);
  v.headline += first->title;
}

// The most probable category that holds a notable finding (findings sorted most important first).
Verdict notable_verdict(const std::vector<RankEntry>& entries,
                        std::map<Category, std::vector<const Finding*>>& by_category) {
  Verdict v;
  for (const auto& e : entries) {
    auto& fs = by_category[e.category];
    if (fs.empty() || fs.front()->severity < Severity::medium) continue;
    v.category = e.category;
    v.confidence = std::min(e.probability, kMaxConfidence);
    v.headline = fs.front()->title;
    break;
  }
  return v;
}

}  // namespace

Ranking rank(const RankerInput& in) {
  Ranking out;
  std::map<Category, std::vector<const Finding*>> by_category;
  bool any_notable = false;
  for (const auto& f : *in.findings) {
    by_category[f.category].push_back(&f);
    any_notable = any_notable || f.severity >= Severity::medium;
  }

  double total = 0, max_strength = 0;
  std::map<Category, double> weight;
  std::vector<std::string> examined_names, unexamined_names;
  for (Category c : kCategories) {
    auto cov = in.coverage.find(c);
    // A category with findings was examined, whichever probe found them.
    bool examined = (cov != in.coverage.end() && cov->second.examined) || !by_category[c].empty();
    (examined ? examined_names : unexamined_names).emplace_back(to_string(c));
    double likelihood = 1.0;  // not examined: the prior stands
    if (examined) {
      double s = evidence_strength(by_category[c]);
      max_strength = std::max(max_strength, s);
      likelihood = by_category[c].empty() ? kAbsentLikelihood : evidence_likelihood(s);
    }
    if (auto a = in.attribution.find(c); a != in.attribution.end()) likelihood *= attribution_factor(a->second);
    weight[c] = prior(c) * likelihood;
    total += weight[c];
  }

  for (Category c : kCategories) {
    RankEntry e;
    e.category = c;
    e.probability = total > 0 ? weight[c] / total : prior(c);
    auto cov = in.coverage.find(c);
    e.examined = (cov != in.coverage.end() && cov->second.examined) || !by_category[c].empty();
    if (!e.examined) e.not_examined_reason = cov != in.coverage.end() ? cov->second.reason : "not examined";
    auto& fs = by_category[c];
    std::sort(fs.begin(), fs.end(), more_important);
    for (const auto* f : fs) e.findings.push_back(f->id);
    out.entries.push_back(std::move(e));
  }
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [](const RankEntry& a, const RankEntry& b) { return a.probability > b.probability; });

  round_keeping_sum(out.entries);
  out.verdict = any_notable ? notable_verdict(out.entries, by_category)
                            : quiet_verdict(in, max_strength, examined_names, unexamined_names);
  if (!any_notable) note_low_findings(out.verdict, *in.findings);
  return out;
}

}  // namespace cp
