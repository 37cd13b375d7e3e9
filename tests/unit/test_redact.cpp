#include <doctest/doctest.h>

#include "util/conninfo.hpp"
#include "util/redact.hpp"

using namespace cp;

TEST_CASE("redact_url hides the password and every parameter value, never a name") {
  CHECK(redact_url("redis://user:s3cret@cache:6379/0") == "redis://user:***@cache:6379/0");
  CHECK(redact_url("redis://:s3cret@cache") == "redis://:***@cache");
  CHECK(redact_url("postgresql://app@db/shop") == "postgresql://app@db/shop");
  CHECK(redact_url("https://api.example.com/path?q=a:b@c") == "https://api.example.com/path?q=***");
  CHECK(redact_url("not a url") == "not a url");
  CHECK(redact_url("https://api.example.com/v1/x?id=42&api_key=abc123&access_token=zz#f") ==
        "https://api.example.com/v1/x?id=***&api_key=***&access_token=***#***");
  CHECK(redact_url("https://s3.example.com/b?X-Amz-Signature=deadbeef&page=2") ==
        "https://s3.example.com/b?X-Amz-Signature=***&page=***");
}

TEST_CASE("scrub replaces every occurrence of a secret") {
  CHECK(scrub("password pw1 and pw1 again", {"pw1"}) == "password *** and *** again");
  CHECK(scrub("nothing here", {""}) == "nothing here");
}

TEST_CASE("conninfo: URIs and key=value strings display without the password") {
  std::string err;
  auto uri = pg::parse_conninfo("postgresql://app:top-secret@db.internal:6432/shop?sslmode=require", err);
  REQUIRE(uri);
  CHECK(uri->display_name() == "postgresql://app@db.internal:6432/shop");
  CHECK(uri->get("password") == "top-secret");
  auto kv = pg::parse_conninfo("host=/var/run/postgresql dbname=shop user=app password='a b'", err);
  REQUIRE(kv);
  CHECK(kv->display_name() == "postgresql://app@/var/run/postgresql/shop");
  CHECK(kv->get("password") == "a b");
  CHECK_FALSE(pg::parse_conninfo("postgresql://[broken", err));
  CHECK_FALSE(err.empty());
}

TEST_CASE("session conninfo carries the safety settings and round-trips quoting") {
  std::string err;
  auto info = pg::parse_conninfo("host=db user=app password='it\\'s' dbname=shop", err);
  REQUIRE(info);
  pg::SessionLimits limits;
  std::string s = pg::session_conninfo(*info, limits, true);
  CHECK(s.find("application_name='chokepoint'") != std::string::npos);
  CHECK(s.find("default_transaction_read_only=on") != std::string::npos);
  CHECK(s.find("statement_timeout=5000") != std::string::npos);
  CHECK(s.find("connect_timeout='5'") != std::string::npos);
  auto again = pg::parse_conninfo(s, err);
  REQUIRE(again);
  CHECK(again->get("password") == info->get("password"));
  CHECK(pg::session_conninfo(*info, limits, false).find("options") == std::string::npos);
}
