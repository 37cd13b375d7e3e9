// The one place that weighs categories against each other (DESIGN.md, "The flow" step 4).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model.hpp"

namespace cp {

struct Coverage {
  bool examined = false;
  std::string reason;  // why not examined
};

struct RankerInput {
  const std::vector<Finding>* findings = nullptr;
  std::map<Category, Coverage> coverage;
  std::map<Category, double> attribution;  // measured share of request time per category (traces)
  // 0..1: the mean over probes of how much of what their rules need they measured (a probe in
  // error: 0); a "nothing found" verdict is only as sure as this. `too_little` says why it is < 1.
  double measured = 1;
  std::vector<std::string> too_little;
};

struct Ranking {
  std::vector<RankEntry> entries;  // all four categories, most probable first
  Verdict verdict;
};

// Priors are the field's base rates; findings (severity x impact share) and measured time
// attribution move them. Probabilities sum to 1. Verdict "none" when no finding reaches medium.
Ranking rank(const RankerInput& in);

double prior(Category c);
double severity_weight(Severity s);
// The model's parts (src/core/README.md, "The ranker"): one finding's weight (severity, scaled by its
// share), a category's combined strength, the likelihood that strength gives, and the factor a
// measured share of request (or window) time gives.
double finding_weight(const Finding& f);
double evidence_strength(const std::vector<const Finding*>& findings);
double evidence_likelihood(double strength);
double attribution_factor(double share);

}  // namespace cp
