#include "probes/redis/probe.hpp"

#include "core/error.hpp"
#include "probes/redis/collector.hpp"
#include "probes/redis/rules.hpp"
#include "probes/redis/url.hpp"
#include "util/redact.hpp"

namespace cp {

namespace {

std::string describe_redis_target(const std::string&, const std::vector<std::string>& specs,
                                  std::vector<std::string>& secrets) {
  const std::string& spec = specs.front();
  std::string error;
  auto url = redis::parse_redis_url(spec, error);
  if (!url) throw UsageError("--redis: " + error);
  if (!url->password.empty()) {
    secrets.push_back(url->password);
    // The raw (percent-encoded) form too, in case a message echoes the URL.
    auto at = spec.rfind('@');
    if (at != std::string::npos) {
      std::string userinfo = spec.substr(8, at - 8);
      auto colon = userinfo.find(':');
      secrets.push_back(colon == std::string::npos ? userinfo : userinfo.substr(colon + 1));
    }
  }
  // Built from the parts, so a password never shows (redis://secret@host has no ':' to find).
  std::string auth;
  if (!url->user.empty())
    auth = url->user + (url->password.empty() ? "" : std::string(":") + std::string(kRedacted)) + "@";
  else if (!url->password.empty())
    auth = std::string(":") + std::string(kRedacted) + "@";
  return "redis://" + auth + url->host + ":" + std::to_string(url->port) + "/" + std::to_string(url->db);
}

Judgement judge_redis_snapshot(const nlohmann::json& snapshot, const Target& target,
                               const Settings& settings) {
  return redis::judge(snapshot.get<redis::Snapshot>(), target, settings);
}

}  // namespace

ProbeKind redis_probe() {
  return {
      "redis",
      {{"--redis", "URL", "a Redis server, redis://[user:password@]host[:port][/db]"}},
      {Category::database},
      true,
      describe_redis_target,
      redis::collect,
      judge_redis_snapshot,
      redis::rule_declarations(),
      {{"timeout_ms", 3000}, {"ping_interval_ms", 100}},
      {"info_end"},
  };
}

}  // namespace cp
