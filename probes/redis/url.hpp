// redis://[user:password@]host[:port][/db]
#pragma once

#include <optional>
#include <string>

namespace cp::redis {

struct RedisUrl {
  std::string user, password, host = "127.0.0.1";
  int port = 6379;
  int db = 0;
};

// nullopt with `error` set when it is not such a URL.
std::optional<RedisUrl> parse_redis_url(const std::string& url, std::string& error);

}  // namespace cp::redis
