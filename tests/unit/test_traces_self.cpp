// chokepoint never measures itself in traces: the requests its --http probe sends to an
// instrumented dependency come back as traces whose entry span carries chokepoint's user agent;
// they form no route, no finding and no attribution, and a note counts them. Also: the clock-skew
// note says "between hosts" only when the spans name more than one host.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "harness.hpp"
#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"
#include "traces_support.hpp"
#include "util/self.hpp"

using namespace cp;

// This file's names (cp::traces's among them) stay in it when a unity build compiles
// it together with other tests.
namespace test_traces_self {

using namespace cp::traces;

namespace {

// The capture whose headline is the CPU-bound callee (verdict code).
const std::string kCapture = "/tests/workloads/node/captures/callee_cpu_bound.otlp.jsonl";

// `requests` GETs of /stock on "inventory", each an N+1 of 40 sequential 10 ms lookups: alone, a
// high database finding and the biggest route. The entry span carries `agent` under `key`.
std::string probe_requests_otlp(const std::string& key, const std::string& agent, int requests = 25) {
  std::string spans;
  auto ns = [](long long ms) { return 1'800'000'000'000'000'000LL + ms * 1'000'000LL; };
  for (int t = 1; t <= requests; ++t) {
    long long t0 = t * 1000;
    std::string trace = fmt::format("{:032x}", 0xc0ffee00 + t);
    spans += fmt::format(
        R"({}{{"traceId":"{}","spanId":"{:016x}","name":"GET /stock","kind":2,"startTimeUnixNano":"{}",)"
        R"("endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/stock"}}}},)"
        R"({{"key":"{}","value":{{"stringValue":"{}"}}}}]}})",
        spans.empty() ? "" : ",", trace, t * 100, ns(t0), ns(t0 + 410), key, agent);
    for (int i = 0; i < 40; ++i)
      spans += fmt::format(
          R"(,{{"traceId":"{}","spanId":"{:016x}","parentSpanId":"{:016x}","name":"pg.query","kind":3,)"
          R"("startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[)"
          R"({{"key":"db.system","value":{{"stringValue":"postgresql"}}}},)"
          R"({{"key":"db.statement","value":{{"stringValue":"SELECT qty FROM stock WHERE sku = $1"}}}}]}})",
          trace, t * 100 + i + 1, t * 100, ns(t0 + 5 + i * 10), ns(t0 + 5 + i * 10 + 10));
  }
  return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":)"
         R"("inventory"}}]},"scopeSpans":[{"spans":[)" +
         spans + "]}]}]}";
}

// The capture, then `extra` (another export), through one assembler.
Snapshot capture_with(const std::string& extra) {
  Assembler a;
  std::string capture = test::slurp(test::source_dir() + kCapture);
  REQUIRE(!capture.empty());
  read_traces_buffer("capture", capture.data(), capture.size(), [&](const RawSpan& s) { a.add(s); });
  if (!extra.empty())
    read_traces_buffer("extra", extra.data(), extra.size(),
                       [&](const RawSpan& s) { a.add(s, capture.size()); });
  return a.finish();
}

bool has_route(const Snapshot& s, const std::string& route) {
  return std::any_of(s.routes.begin(), s.routes.end(), [&](const Route& r) { return r.route == route; });
}

std::multiset<std::string> finding_ids(const Judgement& j) {
  std::multiset<std::string> out;
  for (const auto& f : j.findings) out.insert(f.rule + " " + f.title);
  return out;
}

bool mentions_stock(const Judgement& j) {
  return std::any_of(j.findings.begin(), j.findings.end(), [](const Finding& f) {
    return f.title.find("/stock") != std::string::npos || f.detail.find("/stock") != std::string::npos ||
           f.evidence.dump().find("stock") != std::string::npos;
  });
}

std::string note_with(const Judgement& j, const std::string& part) {
  for (const auto& n : j.notes)
    if (n.find(part) != std::string::npos) return n;
  return "";
}

}  // namespace

TEST_CASE("traces leave out chokepoint's own requests: no route, no finding, no attribution, a note") {
  Judgement alone = test::judge_traces(capture_with(""));
  for (const char* key : {"user_agent.original", "http.user_agent"}) {
    CAPTURE(key);
    // Control: the same requests from anyone else are the biggest problem in the input.
    Snapshot other = capture_with(probe_requests_otlp(key, "Mozilla/5.0 (X11; Linux x86_64)"));
    REQUIRE(has_route(other, "/stock"));
    Judgement other_j = test::judge_traces(other);
    REQUIRE(mentions_stock(other_j));
    CHECK(other_j.attribution != alone.attribution);

    Snapshot own = capture_with(probe_requests_otlp(key, http_user_agent()));
    CHECK_FALSE(has_route(own, "/stock"));
    CHECK(own.own_requests == 25);
    CHECK(own.requests == other.requests - 25);
    CHECK(own.statements.size() == other.statements.size() - 1);  // the lookup is nobody's statement
    Judgement j = test::judge_traces(own);
    CHECK_FALSE(mentions_stock(j));
    CHECK(finding_ids(j) == finding_ids(alone));
    CHECK(j.attribution == alone.attribution);
    CHECK(note_with(j, "25 requests sent by chokepoint itself (its --http probe) left out") != "");
    CHECK(note_with(alone, "chokepoint itself") == "");
  }
}

TEST_CASE("traces: only an entry span's user agent marks chokepoint's request, by prefix") {
  // An older chokepoint's agent is chokepoint's too; a client span that forwards the header is not
  // an entry span: its request stays.
  Snapshot older = capture_with(probe_requests_otlp("user_agent.original", "chokepoint/0.0.9"));
  CHECK(older.own_requests == 25);
  Snapshot lookalike = capture_with(probe_requests_otlp("user_agent.original", "not-chokepoint/1.0"));
  CHECK(lookalike.own_requests == 0);
  CHECK(has_route(lookalike, "/stock"));
  std::string client = probe_requests_otlp("user_agent.original", http_user_agent());
  for (size_t at = client.find(R"("kind":2)"); at != std::string::npos; at = client.find(R"("kind":2)", at))
    client.replace(at, 8, R"("kind":3)");
  // Client spans that are roots are entry spans: still chokepoint's. Give them a parent instead.
  const std::string parent = R"("parentSpanId":"00000000000000ff",)";
  for (size_t at = client.find(R"("name":"GET /stock")"); at != std::string::npos;
       at = client.find(R"("name":"GET /stock")", at + parent.size() + 1))
    client.insert(at, parent);
  CHECK(capture_with(client).own_requests == 0);
}

TEST_CASE("traces: chokepoint's requests in Zipkin are left out by their http.user_agent tag") {
  auto zipkin = [](const std::string& agent) {
    std::string out = "[";
    for (int t = 1; t <= 5; ++t) {
      out += fmt::format(
          R"({}{{"traceId":"{:016x}","id":"{:016x}","kind":"SERVER","name":"get /stock","timestamp":{},)"
          R"("duration":400000,"localEndpoint":{{"serviceName":"inventory"}},)"
          R"("tags":{{"http.route":"/stock","http.user_agent":"{}"}}}})",
          t > 1 ? "," : "", t, t, 1'800'000'000'000'000LL + t * 1'000'000LL, agent);
    }
    return out + "]";
  };
  Snapshot own = test::assemble_text(zipkin(http_user_agent()));
  CHECK(own.own_requests == 5);
  CHECK(own.requests == 0);
  CHECK(own.routes.empty());
  Snapshot other = test::assemble_text(zipkin("okhttp/4.12"));
  CHECK(other.own_requests == 0);
  CHECK(other.requests == 5);
}

namespace {

// A parent and a child that starts 1 ms before it, `hosts` naming each span's host.name.
std::string skewed_pair(const std::string& parent_host, const std::string& child_host) {
  auto resource = [](const std::string& service, const std::string& host) {
    std::string attrs = fmt::format(R"({{"key":"service.name","value":{{"stringValue":"{}"}}}})", service);
    if (!host.empty()) attrs += fmt::format(R"(,{{"key":"host.name","value":{{"stringValue":"{}"}}}})", host);
    return R"({"attributes":[)" + attrs + "]}";
  };
  return fmt::format(
      R"({{"resourceSpans":[{{"resource":{},"scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":)"
      R"("{:016x}","name":"GET /a","kind":2,"startTimeUnixNano":"2000000","endTimeUnixNano":"9000000"}}]}}]}},)"
      R"({{"resource":{},"scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"{:016x}","parentSpanId":)"
      R"("{:016x}","name":"GET /b","kind":2,"startTimeUnixNano":"1000000","endTimeUnixNano":"8000000"}}]}}]}}]}})",
      resource("front", parent_host), 1, 1, resource("back", child_host), 1, 2, 1);
}

std::string skew_note(const std::string& parent_host, const std::string& child_host) {
  Judgement j = test::judge_traces(test::assemble_text(skewed_pair(parent_host, child_host)));
  return note_with(j, "reach outside their parent's interval");
}

}  // namespace

TEST_CASE("traces: the clock-skew note says between hosts only when the spans name two hosts") {
  std::string two = skew_note("web-1", "api-7");
  CHECK(two.find("clock skew between the 2 hosts") != std::string::npos);
  std::string one = skew_note("web-1", "web-1");
  CHECK(one.find("all on one host") != std::string::npos);
  CHECK(one.find("between") == std::string::npos);
  std::string unknown = skew_note("", "");
  CHECK(unknown.find("between") == std::string::npos);
  CHECK(unknown.find("if their services run on different hosts") != std::string::npos);
  Snapshot s = test::assemble_text(skewed_pair("web-1", "api-7"));
  CHECK(s.hosts == 2);
  CHECK(s.spans_without_host == 0);
  CHECK(s.skewed == 1);
}

}  // namespace test_traces_self
