// chokepoint's own identity on the systems it examines: the user agent of its HTTP requests, the
// application_name of its PostgreSQL sessions, the client name of its Redis connection. Every probe
// leaves out what carries it, so chokepoint never diagnoses its own load.
#pragma once

#include <string>
#include <string_view>

#include "chokepoint/version.hpp"

namespace cp {

// PostgreSQL application_name, Redis CLIENT SETNAME.
inline constexpr std::string_view kSelfName = "chokepoint";

// Every user agent chokepoint sends starts with this.
inline constexpr std::string_view kUserAgentPrefix = "chokepoint/";

// The --http probe's user agent: "chokepoint/0.1.0 (latency probe)".
inline const std::string& http_user_agent() {
  static const std::string agent = std::string(kUserAgentPrefix) + kVersion + " (latency probe)";
  return agent;
}

// A request chokepoint sent (its user agent, as a server span records it).
inline bool is_own_user_agent(std::string_view agent) {
  return agent.size() >= kUserAgentPrefix.size() &&
         agent.compare(0, kUserAgentPrefix.size(), kUserAgentPrefix) == 0;
}

}  // namespace cp
