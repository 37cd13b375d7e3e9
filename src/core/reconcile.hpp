// One system, several probes, one account (DESIGN.md, "The flow", between judge and rank): what the
// probes measured of the same thing is reconciled before the ranker weighs it.
//  1. Client and server views: when a datastore's own statistics and client spans measure the same
//     statement, the server's time is the datastore's; the rest was spent in the calling process
//     (throttled or starved, when a host probe watched it), the network or a pool wait. Findings
//     built on the inflated client time are restated or withdrawn, with both numbers as evidence,
//     and the attribution moves with the time.
//  2. One finding per fact: the same rule about the same statement from two probes becomes one
//     finding (`seen_by` lists each probe's view); other rules about the same statement are linked
//     (`related`).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/crosscheck.hpp"
#include "core/model.hpp"

namespace cp {

struct ProbeView {
  std::string probe, target;
  CrossCheck check;
};

// The form two probes' texts of one statement share: lowercase, one space between words,
// parameters ($1, ?, :name) as ?, no trailing semicolon.
std::string statement_key(std::string_view text);
// "postgres", "pg" -> "postgresql"; "mariadb" -> "mysql"; others as they are, lowercase.
std::string datastore_family(std::string_view system);

// Restates findings, moves attribution, merges and links findings; notes what it withdrew on the
// probe results it came from.
void reconcile(Report& r, const std::vector<ProbeView>& views, std::map<Category, double>& attribution);

}  // namespace cp
