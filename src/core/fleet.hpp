// The fleet section of a report: each instance a fleet source (--prometheus) examined, with its
// worst finding's category and severity, worst instances first, and the count per category.
#pragma once

#include "core/model.hpp"

namespace cp {

// Adds `more` (another fleet source's instances) to `into`.
void merge_fleet(std::optional<Fleet>& into, Fleet more);
// Fills every instance's judgement from the report's findings (their `target` names the instance),
// orders the instances worst first and counts them per category.
void summarize_fleet(Report& r);

}  // namespace cp
