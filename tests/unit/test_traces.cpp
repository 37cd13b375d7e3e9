// Trace readers, normalization, assembly and rules, from fixtures written for the project
// (tests/fixtures/traces/make_fixtures.py).
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "harness.hpp"
#include "probes/traces/assemble.hpp"
#include "probes/traces/conventions.hpp"
#include "probes/traces/normalize.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"
#include "traces_support.hpp"

using namespace cp;
using json = nlohmann::ordered_json;

// This file's names (cp::traces's among them) stay in it when a unity build compiles
// it together with other tests.
namespace test_traces {

using namespace cp::traces;
using cp::traces::Format;  // not cp::Format, the report formats

namespace {

using test::assemble_text;
using test::trace_findings;
using test::trace_read_error;

std::string trace_fixture(const std::string& name) {
  return test::source_dir() + "/tests/fixtures/traces/" + name;
}

Snapshot assemble(const std::vector<std::string>& files) {
  Assembler a;
  for (const auto& f : files) read_traces(trace_fixture(f), [&](const RawSpan& s) { a.add(s); });
  return a.finish();
}

}  // namespace

TEST_CASE("normalize_statement: literal and $1 forms are one statement") {
  CHECK(normalize_statement("SELECT id FROM users WHERE id = 42") == "SELECT id FROM users WHERE id = $1");
  CHECK(normalize_statement("SELECT id FROM users WHERE id = $1") == "SELECT id FROM users WHERE id = $1");
  CHECK(normalize_statement("SELECT id FROM users WHERE id = ?") == "SELECT id FROM users WHERE id = $1");
  CHECK(normalize_statement("select *  from t where name = 'O''Brien' and x = :x") ==
        "select * from t where name = $1 and x = $2");
  CHECK(normalize_statement("SELECT * FROM t WHERE id IN (1, 2, 3) -- list") ==
        "SELECT * FROM t WHERE id IN ($1)");
  CHECK(normalize_statement("SELECT * FROM t WHERE id IN (SELECT a FROM b)") ==
        "SELECT * FROM t WHERE id IN (SELECT a FROM b)");
  CHECK(normalize_statement("SELECT t1.c2 FROM t1 /* hint */ WHERE v = -1.5e3;") ==
        "SELECT t1.c2 FROM t1 WHERE v = -$1");
  CHECK(normalize_statement("SELECT \"Weird Col\" FROM t") == "SELECT \"Weird Col\" FROM t");
}

TEST_CASE("normalize_url: template of host and path") {
  CHECK(normalize_url("https://user:pw@api.example.com:8443/v1/users/12345/orders?page=2#x") ==
        "api.example.com:8443/v1/users/{id}/orders");
  CHECK(normalize_url("http://svc/items/550e8400-e29b-41d4-a716-446655440000") == "svc/items/{id}");
  CHECK(url_host("https://api.example.com/x") == "api.example.com");
  CHECK(normalize_url("http://svc") == "svc");
}

TEST_CASE("readers detect every format") {
  struct Case {
    const char* file;
    Format format;
  } cases[] = {{"otlp_n_plus_one.json", Format::otlp_json},
               {"jaeger_slow_dependency.json", Format::jaeger},
               {"jsonl_code_hotspot.jsonl", Format::otlp_jsonl},
               {"zipkin_healthy.json", Format::zipkin}};
  for (const auto& c : cases) {
    CAPTURE(c.file);
    size_t spans = 0;
    auto stats = read_traces(trace_fixture(c.file), [&](const RawSpan&) { ++spans; });
    CHECK(stats.format == c.format);
    CHECK(stats.spans == spans);
    CHECK(spans > 50);
  }
}

TEST_CASE("ids in hex or base64, 64-bit numbers as numbers or strings, both kind spellings") {
  std::string hex =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
    "scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718",
    "name":"x","kind":2,"startTimeUnixNano":"1000000","endTimeUnixNano":3000000}]}]}]})";
  std::string b64 = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==",
    "spanId":"ERITFBUWFxg=","name":"x","kind":"SPAN_KIND_SERVER","startTimeUnixNano":1000000,
    "endTimeUnixNano":"3000000"}]}],"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]}}]})";
  std::vector<RawSpan> a, b;
  std::vector<std::string> services;
  read_traces_buffer("hex", hex.data(), hex.size(), [&](const RawSpan& s) { a.push_back(s); });
  read_traces_buffer("b64", b64.data(), b64.size(), [&](const RawSpan& s) {
    b.push_back(s);
    services.emplace_back(s.service);
  });
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].trace == b[0].trace);
  CHECK(a[0].id == b[0].id);
  CHECK(a[0].id == 0x1112131415161718ull);
  CHECK(a[0].kind == SpanKind::server);
  CHECK(b[0].kind == SpanKind::server);
  CHECK(b[0].end_ns - b[0].start_ns == 2000000);
  CHECK(services[0] == "a");  // resource after scopeSpans: still attributed
}

TEST_CASE("fast paths agree with the general ones: id case, spacing, long and fractional numbers") {
  auto one = [](const std::string& span) {
    std::string doc = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + span + "]}]}]}";
    std::vector<RawSpan> out;
    read_traces_buffer("t", doc.data(), doc.size(), [&](const RawSpan& s) { out.push_back(s); });
    REQUIRE(out.size() == 1);
    return out[0];
  };
  RawSpan lower = one(
      R"({"traceId":"00f067aa0ba902b700f067aa0ba902b7","spanId":"a0b1c2d3e4f5a6b7",)"
      R"("parentSpanId":"","startTimeUnixNano":"1764100000000000000","endTimeUnixNano":1764100000000000001})");
  RawSpan upper =
      one(R"({"traceId":"00F067AA0BA902B700F067AA0BA902B7","spanId":"A0B1C2D3E4F5A6B7",)"
          R"("startTimeUnixNano" : 1764100000000000000 , "endTimeUnixNano": 1.764100000000000001e18 })");
  CHECK(lower.trace == upper.trace);
  CHECK(lower.trace.hi == 0x00f067aa0ba902b7ull);
  CHECK(lower.id == 0xa0b1c2d3e4f5a6b7ull);
  CHECK(lower.id == upper.id);
  CHECK(lower.parent == 0);
  CHECK(lower.start_ns == 1764100000000000000);
  CHECK(upper.start_ns == 1764100000000000000);
  CHECK(lower.end_ns == 1764100000000000001);
  CHECK(upper.end_ns >= 1764099999999000000);  // a double: close, not exact
  // 20 digits (beyond the fast path) still read; an id with one non-hex digit is read as text.
  CHECK(one(R"({"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718",)"
            R"("startTimeUnixNano":"10000000000000000000"})")
            .start_ns == static_cast<int64_t>(10000000000000000000ull));
  RawSpan text = one(R"({"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"111213141516171g"})");
  CHECK(text.id != 0);
  CHECK(text.id != 0x111213141516171ull);
  CHECK(text.id != 0x1112131415161710ull);
}

TEST_CASE("TraceMap agrees with std::map through inserts, erases and growth") {
  TraceMap<int> flat;
  std::map<TraceId, int> reference;
  uint64_t state = 42;
  auto next = [&] {  // xorshift: reproducible, with many collisions in a small key space
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int step = 0; step < 200000; ++step) {
    TraceId t{next() % 4, next() % 3000};
    if (next() % 3) {
      auto [value, inserted] = flat.try_emplace(t);
      CHECK(inserted == !reference.count(t));
      *value = step;
      reference[t] = step;
    } else {
      flat.erase(t);
      reference.erase(t);
    }
    if (step % 1000 == 0) {
      REQUIRE(flat.size() == reference.size());
      for (const auto& [key, value] : reference) {
        int* found = flat.find(key);
        REQUIRE(found);
        CHECK(*found == value);
      }
    }
  }
  CHECK(flat.find({99, 99}) == nullptr);
}

TEST_CASE("every semantic-convention key, both generations, through OTLP attributes and Zipkin tags") {
  struct Case {
    const char* key;
    const char* value;
    std::function<bool(const RawSpan&)> holds;
  };
  std::vector<Case> cases = {
      {"db.statement", "SELECT 1", [](const RawSpan& s) { return s.db_statement == "SELECT 1"; }},
      {"db.query.text", "SELECT 1", [](const RawSpan& s) { return s.db_statement == "SELECT 1"; }},
      {"db.system", "redis", [](const RawSpan& s) { return s.db_system == "redis"; }},
      {"db.system.name", "redis", [](const RawSpan& s) { return s.db_system == "redis"; }},
      {"http.url", "https://a.example/x", [](const RawSpan& s) { return s.url == "https://a.example/x"; }},
      {"url.full", "https://a.example/x", [](const RawSpan& s) { return s.url == "https://a.example/x"; }},
      {"http.target", "/x", [](const RawSpan& s) { return s.target_path == "/x"; }},
      {"url.path", "/x", [](const RawSpan& s) { return s.target_path == "/x"; }},
      {"http.method", "POST", [](const RawSpan& s) { return s.http_method == "POST"; }},
      {"http.request.method", "POST", [](const RawSpan& s) { return s.http_method == "POST"; }},
      {"http.status_code", "503", [](const RawSpan& s) { return s.http_status == 503; }},
      {"http.response.status_code", "503", [](const RawSpan& s) { return s.http_status == 503; }},
      {"http.route", "/users/{id}", [](const RawSpan& s) { return s.http_route == "/users/{id}"; }},
      {"net.peer.name", "db.internal", [](const RawSpan& s) { return s.peer == "db.internal"; }},
      {"server.address", "db.internal", [](const RawSpan& s) { return s.peer == "db.internal"; }},
      {"peer.service", "billing", [](const RawSpan& s) { return s.peer_service == "billing"; }},
      {"rpc.service", "billing", [](const RawSpan& s) { return s.peer_service == "billing"; }},
      {"server.port", "5432", [](const RawSpan& s) { return s.peer_port == 5432; }},
      {"component", "ioredis", [](const RawSpan& s) { return datastore_of(s) == Datastore::cache; }},
      {"sql.query", "SELECT 1", [](const RawSpan& s) { return datastore_of(s) == Datastore::database; }},
      {"op", "db.redis", [](const RawSpan& s) { return datastore_of(s) == Datastore::cache; }},
      {"op", "db.sql.query", [](const RawSpan& s) { return datastore_of(s) == Datastore::database; }},
      {"db.type", "cassandra", [](const RawSpan& s) { return datastore_of(s) == Datastore::database; }},
      {"peer.service", "mysql", [](const RawSpan& s) { return datastore_of(s) == Datastore::database; }},
      {"span.kind", "client", [](const RawSpan& s) { return s.kind == SpanKind::client; }},
      {"error", "true", [](const RawSpan& s) { return s.error; }},
      {"otel.status_code", "ERROR", [](const RawSpan& s) { return s.error; }},
      {"error.type", "ReadTimeout", [](const RawSpan& s) { return s.timeout; }},
      {"exception.type", "DeadlineExceeded", [](const RawSpan& s) { return s.timeout; }},
      {"unrelated.key", "x",
       [](const RawSpan& s) { return s.db_statement.empty() && s.url.empty() && !s.error; }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    std::string otlp = fmt::format(
        R"({{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10",)"
        R"("spanId":"1112131415161718","attributes":[{{"key":"{}","value":{{"stringValue":"{}"}}}}]}}]}}]}}]}})",
        c.key, c.value);
    std::string zipkin = fmt::format(
        R"([{{"traceId":"0102030405060708","id":"1112131415161718","name":"x","timestamp":1,"duration":1,)"
        R"("tags":{{"{}":"{}"}}}}])",
        c.key, c.value);
    for (const std::string* doc : {&otlp, &zipkin}) {
      // A RawSpan's views are valid during the callback only: judged there.
      std::vector<bool> got;
      read_traces_buffer("t", doc->data(), doc->size(), [&](const RawSpan& s) { got.push_back(c.holds(s)); });
      REQUIRE(got.size() == 1);
      CHECK(got[0]);
    }
  }
}

TEST_CASE("a single Jaeger trace object and the older instrumentationLibrarySpans") {
  std::string jaeger =
      R"({"traceID":"abc123abc123abc1","spans":[{"traceID":"abc123abc123abc1","spanID":"0000000000000001",
    "operationName":"GET /a","references":[],"startTime":1000,"duration":5000,"processID":"p1",
    "tags":[{"key":"span.kind","type":"string","value":"server"}]}],"processes":{"p1":{"serviceName":"svc"}}})";
  auto s = assemble_text(jaeger);
  REQUIRE(s.routes.size() == 1);
  CHECK(s.routes[0].service == "svc");
  CHECK(s.routes[0].latency.p50 == doctest::Approx(5).epsilon(0.02));
  std::string old_otlp =
      R"({"resourceSpans":[{"instrumentationLibrarySpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
    "spanId":"1112131415161718","name":"job","kind":1,"startTimeUnixNano":"0","endTimeUnixNano":"1000000"}]}]}]})";
  auto o = assemble_text(old_otlp);
  CHECK(o.spans == 1);
  CHECK(o.routes.size() == 1);  // a root span is a request
}

TEST_CASE(
    "must hold: OTLP, 30 user lookups per request (half literal, half $1) -> one db.n_plus_one per route") {
  auto s = assemble({"otlp_n_plus_one.json", "otlp_n_plus_one_base64.json"});
  auto n1 = trace_findings(s, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["query"] == "SELECT id, name, email FROM users WHERE id = $1");
  CHECK(n1[0].evidence["route"] == "/orders/{id}");
  CHECK(n1[0].evidence["service"] == "shop-api");
  CHECK(n1[0].evidence["repetitions_per_request"].get<double>() == doctest::Approx(30));
  CHECK(n1[0].evidence["requests"] == 20);
  CHECK(n1[0].evidence["time_per_request_ms"].get<double>() > 50);
  CHECK(n1[0].category == Category::database);
  // The health check's single SELECT 1 is not an N+1.
  for (const auto& f : n1) CHECK(f.evidence["route"] != "/health");
}

TEST_CASE(
    "must hold: Jaeger, a slow third-party host -> net.slow_external_call naming it, not the fast one") {
  auto s = assemble({"jaeger_slow_dependency.json"});
  auto slow = trace_findings(s, "net.slow_external_call");
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].evidence["host"] == "api.payments-provider.com");
  CHECK(slow[0].evidence["p95_ms"].get<double>() > 380);
  CHECK(slow[0].severity == Severity::critical);
  Target t{"traces", "--traces", {""}, "fixture", {}};
  for (const auto& f : judge(s, t, {}).findings)
    CHECK(f.title.find("inventory.internal") == std::string::npos);
}

TEST_CASE("must hold: JSON Lines, one internal function holds the time -> code.self_time_hotspot naming it") {
  auto s = assemble({"jsonl_code_hotspot.jsonl"});
  CHECK(s.orphans == 0);  // spans of a trace spread over lines are joined
  auto code = trace_findings(s, "code.self_time_hotspot");
  REQUIRE(code.size() == 1);
  CHECK(code[0].evidence["span"] == "ReportBuilder.build");
  CHECK(code[0].evidence["route"] == "/report");
  CHECK(code[0].evidence["code_share"].get<double>() > 0.9);
}

TEST_CASE("healthy Zipkin traces: no finding, attribution sums to 1") {
  auto s = assemble({"zipkin_healthy.json"});
  Target t{"traces", "--traces", {""}, "fixture", {}};
  auto j = judge(s, t, {});
  CHECK(j.findings.empty());
  double sum = 0;
  for (auto [c, share] : j.attribution) sum += share;
  CHECK(sum == doctest::Approx(1.0));
  REQUIRE(j.breakdowns.size() == 1);
  CHECK(j.breakdowns[0]["route"] == "/catalog");
}

TEST_CASE("external-call patterns: repeated, sequential, errors") {
  auto s = assemble({"otlp_external_patterns.json"});
  auto repeated = trace_findings(s, "net.repeated_external_call");
  REQUIRE(repeated.size() == 1);
  CHECK(repeated[0].evidence["call"] == "GET catalog.internal/items/{id}");
  CHECK(repeated[0].evidence["repetitions_per_request"] == 12);
  auto seq = trace_findings(s, "net.sequential_external_calls");
  REQUIRE(seq.size() == 1);
  CHECK(seq[0].evidence["calls"] == 4);
  CHECK(seq[0].evidence["saved_per_request_ms"].get<double>() == doctest::Approx(300).epsilon(0.02));
  auto errors = trace_findings(s, "net.external_errors");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].evidence["host"] == "audit.example.net");
  CHECK(errors[0].evidence["error_rate"].get<double>() == doctest::Approx(1.0 / 3).epsilon(0.01));
  CHECK(trace_findings(s, "net.slow_external_call").empty());  // every host is fast
}

TEST_CASE("orphans and clock skew are counted and reported, not fatal") {
  auto s = assemble({"otlp_orphans_skew.json"});
  CHECK(s.orphans == 5);
  CHECK(s.skewed == 5);
  CHECK(s.requests == 5);
  Target t{"traces", "--traces", {""}, "fixture", {}};
  auto notes = judge(s, t, {}).notes;
  auto has = [&](const char* text) {
    return std::any_of(notes.begin(), notes.end(),
                       [&](auto& n) { return n.find(text) != std::string::npos; });
  };
  CHECK(has("orphans"));
  CHECK(has("clock skew"));
}

TEST_CASE("bad input: a clear message with where and what was expected") {
  CHECK(trace_read_error("").find("empty") != std::string::npos);
  CHECK(trace_read_error("{\"items\": [1]}").find("not a trace") != std::string::npos);
  CHECK(trace_read_error("[1, 2]").find("wrong type") != std::string::npos);
  CHECK(trace_read_error("{\"resourceSpans\": [ {\"scopeSpans\": [ }").find("invalid JSON") !=
        std::string::npos);
  // Found by the fuzzer: a document that fails stage 1 has no position to report.
  CHECK(trace_read_error("{\"resourceSpans\": [ eSpans\": [ }\n").find("invalid JSON") != std::string::npos);
  std::string truncated = trace_read_error("{\"data\": [{\"traceID\": \"ab\", \"spans\": [");
  CHECK(truncated.find("truncated") != std::string::npos);
  CHECK(truncated.find("input.json") == 0);
  // Ids of any text are read (test_traces_ids.cpp); an empty trace id is still refused.
  std::string bad_id = trace_read_error(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"1112131415161718"}]}]}]})");
  CHECK(bad_id.find("empty traceId") != std::string::npos);
  CHECK(bad_id.find("input.json:1:") == 0);  // one request on one line: where is its line
  for (const char* file :
       {"bad_truncated.jsonl", "bad_invalid.json", "bad_not_a_trace.json", "bad_trace_id.json"}) {
    CAPTURE(file);
    CHECK_THROWS_AS(read_traces(trace_fixture(file), [](const RawSpan&) {}), ReadError);
  }
  try {
    read_traces(trace_fixture("bad_truncated.jsonl"), [](const RawSpan&) {});
  } catch (const ReadError& e) {
    CHECK(e.message.find("bad_truncated.jsonl:2:") != std::string::npos);
    CHECK(e.message.find("truncated") != std::string::npos);
  }
}

TEST_CASE("JSON Lines larger than the read chunk: lines across chunk boundaries are read whole") {
  // One line longer than the 16 MiB read chunk / map window between ordinary ones, from a file
  // (mapped) and from a pipe (read in chunks): every line and span either way.
  auto line_of = [](size_t first, size_t spans) {
    std::string line =
        R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},"scopeSpans":[{"spans":[)";
    for (size_t i = 0; i < spans; ++i) {
      line += fmt::format(
          R"({}{{"traceId":"{:032x}","spanId":"{:016x}","name":"GET /x","kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/x"}}}}]}})",
          i ? "," : "", first + i + 1, first + i + 1, 1000, 2001000);
    }
    return line + "]}]}]}\n";
  };
  std::string text;
  size_t lines = 0, spans_written = 0;
  auto add = [&](size_t spans) {
    text += line_of(spans_written, spans);
    spans_written += spans;
    ++lines;
  };
  add(20);
  add(70000);  // ~17 MiB
  while (text.size() < (34u << 20)) add(20);
  std::string path = test::temp_path("big.jsonl");
  std::ofstream(path) << text;

  size_t spans = 0;
  auto stats = read_traces(path, [&](const RawSpan&) { ++spans; });
  CHECK(stats.format == Format::otlp_jsonl);
  CHECK(stats.lines == lines);
  CHECK(stats.bytes == text.size());
  CHECK(spans == spans_written);

  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::thread writer([&] {
    for (size_t done = 0; done < text.size();) {
      ssize_t n = write(fds[1], text.data() + done, std::min<size_t>(1 << 20, text.size() - done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
  });
  size_t piped = 0;
  auto piped_stats = read_traces(fmt::format("/dev/fd/{}", fds[0]), [&](const RawSpan&) { ++piped; });
  writer.join();
  close(fds[0]);
  CHECK(piped_stats.lines == lines);
  CHECK(piped == spans_written);

  // A line ending just before the end of the first 16 MiB window: no room for simdjson's padding.
  std::string edge = line_of(0, 20);
  edge.insert(edge.size() - 1, (16u << 20) - 10 - edge.size(), ' ');
  edge += line_of(20, 20);
  std::ofstream(path, std::ios::trunc) << edge;
  spans = 0;
  CHECK(read_traces(path, [&](const RawSpan&) { ++spans; }).lines == 2);
  CHECK(spans == 40);
}

TEST_CASE("CLI: must-hold verdicts, schema-valid reports, exit codes") {
  auto n1 = test::diagnose_json({"--traces", trace_fixture("otlp_n_plus_one.json"), "--traces",
                                 trace_fixture("otlp_n_plus_one_base64.json")});
  CHECK(n1.schema_errors.empty());
  CHECK(n1.exit_code == 0);
  CHECK(n1.report["verdict"]["category"] == "database");
  CHECK(test::findings_of(n1.report, "db.n_plus_one").size() == 1);
  CHECK(n1.report["run"]["window_s"] == 0);

  auto net = test::diagnose_json({"--traces", trace_fixture("jaeger_slow_dependency.json")});
  CHECK(net.report["verdict"]["category"] == "network");
  CHECK(net.report["verdict"]["headline"].get<std::string>().find("api.payments-provider.com") !=
        std::string::npos);

  auto code = test::diagnose_json({"--traces", trace_fixture("jsonl_code_hotspot.jsonl")});
  CHECK(code.report["verdict"]["category"] == "code");
  CHECK(code.report["verdict"]["headline"].get<std::string>().find("ReportBuilder.build") !=
        std::string::npos);

  auto healthy = test::diagnose_json({"--traces", trace_fixture("zipkin_healthy.json"), "--fail-on", "low"});
  CHECK(healthy.exit_code == 0);
  CHECK(healthy.report["verdict"]["category"] == "none");
  CHECK_FALSE(healthy.report["breakdowns"].empty());

  auto bad = test::diagnose_json({"--traces", trace_fixture("bad_truncated.jsonl")});
  CHECK(bad.exit_code == 3);
  CHECK(bad.schema_errors.empty());
  CHECK(bad.report["probes"][0]["status"] == "error");

  auto stdin_run = test::run(
      {test::chokepoint_bin(), "diagnose", "--traces", "-", "--format", "json"},
      "[{\"traceId\":\"00000000000000aa\",\"id\":\"00000000000000ab\",\"name\":\"get /s\","
      "\"kind\":\"SERVER\",\"timestamp\":1,\"duration\":5,\"localEndpoint\":{\"serviceName\":\"z\"}}]");
  CHECK(stdin_run.exit_code == 0);
  CHECK(stdin_run.out.find("\"<stdin>\"") != std::string::npos);
}

TEST_CASE("reader fix: a UTF-8 byte order mark is accepted, in a buffer, a document file and JSON Lines") {
  std::string zipkin =
      "\xEF\xBB\xBF[{\"traceId\":\"00000000000000aa\",\"id\":\"00000000000000ab\",\"name\":\"get /s\","
      "\"kind\":\"SERVER\",\"timestamp\":1,\"duration\":5,\"localEndpoint\":{\"serviceName\":\"z\"}}]";
  size_t spans = 0;
  auto stats = read_traces_buffer("bom.json", zipkin.data(), zipkin.size(), [&](const RawSpan&) { ++spans; });
  CHECK(stats.format == Format::zipkin);
  CHECK(spans == 1);
  std::string line =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718","name":"x","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})";
  for (const std::string& text : {zipkin, "\xEF\xBB\xBF" + line + "\n" + line + "\n"}) {
    std::string path = test::temp_path("bom.trace");
    std::ofstream(path, std::ios::binary) << text;
    size_t n = 0;
    read_traces(path, [&](const RawSpan&) { ++n; });
    CHECK(n >= 1);
  }
}

TEST_CASE("reader fix: a bare JSON array of Jaeger trace objects is read as Jaeger, not Zipkin") {
  std::string doc =
      R"([{"traceID":"abc123abc123abc1","spans":[{"traceID":"abc123abc123abc1","spanID":"0000000000000001",
    "operationName":"GET /a","references":[],"startTime":1000,"duration":5000,"processID":"p1",
    "tags":[{"key":"span.kind","type":"string","value":"server"}]}],"processes":{"p1":{"serviceName":"svc"}}},
    {"traceID":"abc123abc123abc2","spans":[{"traceID":"abc123abc123abc2","spanID":"0000000000000002",
    "operationName":"GET /a","references":[],"startTime":9000,"duration":3000,"processID":"p1"}],
    "processes":{"p1":{"serviceName":"svc"}}}])";
  std::vector<std::string> got;  // a RawSpan's views are valid during the callback only
  auto stats = read_traces_buffer("jaeger.json", doc.data(), doc.size(),
                                  [&](const RawSpan& s) { got.emplace_back(s.service); });
  CHECK(stats.format == Format::jaeger);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == "svc");
  auto snap = assemble_text(doc);
  CHECK(snap.requests == 2);
}

TEST_CASE("reader fix: Zipkin v1 is refused by name (exit 3), not read as v2") {
  std::string v1 =
      R"([{"traceId":"00000000000000aa","id":"00000000000000ab","name":"get","timestamp":1,"duration":5,
    "annotations":[{"timestamp":1,"value":"sr","endpoint":{"serviceName":"web","ipv4":"10.0.0.1"}}],
    "binaryAnnotations":[{"key":"http.path","value":"/a","endpoint":{"serviceName":"web"}}]}])";
  CHECK(trace_read_error(v1).find("Zipkin v1") != std::string::npos);
  std::string only_binary = R"([{"traceId":"00000000000000aa","id":"00000000000000ab","name":"get",
    "binaryAnnotations":[{"key":"lc","value":"x"}]}])";
  CHECK(trace_read_error(only_binary).find("Zipkin v1") != std::string::npos);
  // v2 annotations (timestamp + value, no endpoint) are fine.
  std::string v2 = R"([{"traceId":"00000000000000aa","id":"00000000000000ab","name":"get","timestamp":1,
    "duration":5,"annotations":[{"timestamp":2,"value":"wire send"}]}])";
  CHECK(trace_read_error(v2).empty());
  auto run = test::run({test::chokepoint_bin(), "diagnose", "--traces", "-", "--format", "json"}, v1);
  CHECK(run.exit_code == 3);
  CHECK(run.out.find("Zipkin v1") != std::string::npos);
}

TEST_CASE("reader fix: a truncated pretty-printed file is located by line and column where it ends") {
  std::string doc =
      "{\n  \"data\": [\n    {\n      \"traceID\": \"ab\",\n      \"spans\": [\n        {\"spanID\"";
  std::string message = trace_read_error(doc);
  CHECK(message.find("truncated") != std::string::npos);
  // Line 6, just after its last character (column 18): not "1: byte 0".
  CHECK(message.find("input.json:6:18:") == 0);
  std::string invalid = "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": 12 }\n  ]\n}";
  CHECK(trace_read_error(invalid).find("input.json:") == 0);
}

namespace {

// The bar of `bins` holding the observation of nearest rank p % (the percentile's definition).
size_t bar_of_rank(const json& bins, double requests, double p) {
  double rank = std::max(1.0, std::ceil(p / 100.0 * requests)), seen = 0;
  for (size_t i = 0; i < bins.size(); ++i)
    if ((seen += bins[i]["count"].get<double>()) >= rank) return i;
  return bins.size();
}

}  // namespace

TEST_CASE("per route, a latency histogram: counts add up to the requests, p50 and p95 in their bars") {
  const std::string captures = test::source_dir() + "/tests/workloads/node/captures/";
  for (const std::string& file :
       {trace_fixture("otlp_n_plus_one.json"), trace_fixture("jaeger_slow_dependency.json"),
        captures + "slow_third_party.otlp.jsonl", captures + "orm_n_plus_one.otlp.jsonl"}) {
    CAPTURE(file);
    auto run = test::diagnose_json({"--traces", file});
    CHECK(run.schema_errors.empty());
    REQUIRE_FALSE(run.report["breakdowns"].empty());
    for (const auto& b : run.report["breakdowns"]) {
      CAPTURE(b["route"]);
      const json& bins = b["latency_histogram"];
      REQUIRE(!bins.empty());
      CHECK(bins.size() <= 30);
      double total = 0;
      for (size_t i = 0; i < bins.size(); ++i) {
        total += bins[i]["count"].get<double>();
        CHECK(bins[i]["lower_ms"] < bins[i]["upper_ms"]);
        if (i > 0) CHECK(bins[i - 1]["upper_ms"] <= bins[i]["lower_ms"]);
      }
      CHECK(total == b["requests"]);
      for (auto [p, key] : {std::pair{50.0, "p50_ms"}, {95.0, "p95_ms"}}) {
        size_t bar = bar_of_rank(bins, total, p);
        REQUIRE(bar < bins.size());
        CAPTURE(key);
        CHECK(bins[bar]["lower_ms"] <= b[key]);
        CHECK(b[key] < bins[bar]["upper_ms"]);
      }
    }
  }
  // The captures' requests vary: more than one bar.
  auto varied = test::diagnose_json({"--traces", captures + "slow_third_party.otlp.jsonl"});
  CHECK(varied.report["breakdowns"][0]["latency_histogram"].size() > 5);
}

}  // namespace test_traces
