// Trace and span ids of any text (issue #22 point 7): hand-written and converted exports name spans
// "span-root" or "trace-jaeger-1". Hex and base64 ids are decoded as before; any other text is
// hashed, the same text to the same id, so parent links resolve in every format.
#include <doctest/doctest.h>

#include <functional>

#include <fmt/format.h>

#include "harness.hpp"
#include "probes/traces/assemble.hpp"
#include "probes/traces/readers.hpp"
#include "probes/traces/rules.hpp"
#include "traces_support.hpp"

using namespace cp;

// This file's names (cp::traces's among them) stay in it when a unity build compiles
// it together with other tests.
namespace test_traces_ids {

using namespace cp::traces;
using cp::traces::Format;  // not cp::Format, the report formats

namespace {

using test::assemble_text;
using test::trace_findings;
using test::trace_read_error;

// One request: GET /orders (100 ms) runs six user lookups one after another (12 ms each), ids as
// given. Times in microseconds from the request's start.
struct ShapeSpan {
  std::string id, parent;
  bool server = false;
  long long start_us = 0, dur_us = 0;
  int user = 0;  // the lookups: which user
};

constexpr int kRequests = 10, kLookups = 6;
constexpr long long kT0us = 1'700'000'000'000'000;

std::vector<ShapeSpan> lookups(const std::string& root_id, const std::function<std::string(int)>& db_id) {
  std::vector<ShapeSpan> spans = {{root_id, "", true, 0, 100'000, 0}};
  for (int i = 1; i <= kLookups; ++i)
    spans.push_back({db_id(i), root_id, false, 5'000 + (i - 1) * 14'000, 12'000, i});
  return spans;
}

std::vector<ShapeSpan> text_ids() {
  return lookups("span-root", [](int i) { return fmt::format("span-db-{}", i); });
}

std::string statement(int user) {
  return fmt::format("SELECT * FROM users WHERE id = {}", user);
}

// The same requests as Jaeger JSON: one trace object per request, "trace-jaeger-N".
std::string jaeger(const std::vector<ShapeSpan>& shape) {
  std::string traces;
  for (int t = 1; t <= kRequests; ++t) {
    std::string trace = fmt::format("trace-jaeger-{}", t), spans;
    for (const auto& s : shape) {
      std::string refs =
          s.parent.empty()
              ? ""
              : fmt::format(R"({{"refType":"CHILD_OF","traceID":"{}","spanID":"{}"}})", trace, s.parent);
      std::string tags =
          s.server
              ? R"({"key":"span.kind","value":"server"},{"key":"http.route","value":"/orders"})"
              : fmt::format(
                    R"({{"key":"span.kind","value":"client"}},{{"key":"db.system","value":"postgresql"}},{{"key":"db.statement","value":"{}"}})",
                    statement(s.user));
      spans += fmt::format(
          R"({}{{"traceID":"{}","spanID":"{}","operationName":"{}","references":[{}],"startTime":{},"duration":{},"processID":"p1","tags":[{}]}})",
          spans.empty() ? "" : ",", trace, s.id, s.server ? "GET /orders" : "SELECT", refs,
          kT0us + t * 1'000'000 + s.start_us, s.dur_us, tags);
    }
    traces +=
        fmt::format(R"({}{{"traceID":"{}","spans":[{}],"processes":{{"p1":{{"serviceName":"shop"}}}}}})",
                    traces.empty() ? "" : ",", trace, spans);
  }
  return R"({"data":[)" + traces + "]}";
}

// Zipkin v2: one array of spans, "trace-zipkin-N".
std::string zipkin(const std::vector<ShapeSpan>& shape) {
  std::string spans;
  for (int t = 1; t <= kRequests; ++t)
    for (const auto& s : shape) {
      std::string parent = s.parent.empty() ? "" : fmt::format(R"("parentId":"{}",)", s.parent);
      std::string tags =
          s.server ? R"({"http.route":"/orders"})"
                   : fmt::format(R"({{"db.system":"postgresql","db.statement":"{}"}})", statement(s.user));
      spans += fmt::format(
          R"({}{{"traceId":"trace-zipkin-{}","id":"{}",{}"name":"{}","kind":"{}","timestamp":{},"duration":{},"localEndpoint":{{"serviceName":"shop"}},"tags":{}}})",
          spans.empty() ? "" : ",", t, s.id, parent, s.server ? "get /orders" : "select",
          s.server ? "SERVER" : "CLIENT", kT0us + t * 1'000'000 + s.start_us, s.dur_us, tags);
    }
  return "[" + spans + "]";
}

// OTLP/JSON, one request per line (JSON Lines), trace ids from `trace_id`.
std::string otlp(const std::vector<ShapeSpan>& shape, const std::function<std::string(int)>& trace_id) {
  std::string lines;
  for (int t = 1; t <= kRequests; ++t) {
    std::string spans;
    for (const auto& s : shape) {
      std::string attrs =
          s.server
              ? R"({"key":"http.route","value":{"stringValue":"/orders"}})"
              : fmt::format(
                    R"({{"key":"db.system","value":{{"stringValue":"postgresql"}}}},{{"key":"db.statement","value":{{"stringValue":"{}"}}}})",
                    statement(s.user));
      long long start_ns = (kT0us + t * 1'000'000 + s.start_us) * 1000;
      spans += fmt::format(
          R"({}{{"traceId":"{}","spanId":"{}","parentSpanId":"{}","name":"{}","kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{}]}})",
          spans.empty() ? "" : ",", trace_id(t), s.id, s.parent, s.server ? "GET /orders" : "SELECT",
          s.server ? 2 : 3, start_ns, start_ns + s.dur_us * 1000, attrs);
    }
    lines += fmt::format(
        R"({{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}})",
        spans);
    lines += "\n";
  }
  return lines;
}

// The diagnosis of the ten requests: one tree each, the lookups under the request, on its path.
void check_lookups_diagnosed(const Snapshot& s) {
  CHECK(s.spans == kRequests * (kLookups + 1));
  CHECK(s.traces == kRequests);
  CHECK(s.requests == kRequests);
  CHECK(s.orphans == 0);
  CHECK(s.duplicates == 0);
  REQUIRE(s.routes.size() == 1);
  const Route& r = s.routes[0];
  CHECK(r.route == "/orders");
  CHECK(r.service == "shop");
  CHECK(r.requests == kRequests);
  CHECK(r.database_ms / r.requests == doctest::Approx(kLookups * 12));  // 72 of the 100 ms
  CHECK(r.database_ms / r.request_ms == doctest::Approx(0.72));
  auto n1 = trace_findings(s, "db.n_plus_one");
  REQUIRE(n1.size() == 1);
  CHECK(n1[0].evidence["query"] == "SELECT * FROM users WHERE id = $1");
  CHECK(n1[0].evidence["route"] == "/orders");
  CHECK(n1[0].evidence["requests"] == kRequests);
  CHECK(n1[0].evidence["repetitions_per_request"].get<double>() == doctest::Approx(kLookups));
}

std::vector<RawSpan> read_spans(const std::string& text) {
  std::vector<RawSpan> out;
  read_traces_buffer("inline", text.data(), text.size(), [&](const RawSpan& s) { out.push_back(s); });
  return out;
}

}  // namespace

TEST_CASE("text ids: Jaeger traces 'trace-jaeger-N' with spans 'span-root' and 'span-db-N' are assembled") {
  std::string doc = jaeger(text_ids());
  CHECK(read_traces_buffer("inline", doc.data(), doc.size(), [](const RawSpan&) {}).format == Format::jaeger);
  check_lookups_diagnosed(assemble_text(doc));
}

TEST_CASE("text ids: Zipkin v2 spans with text traceId, id and parentId are assembled") {
  std::string doc = zipkin(text_ids());
  CHECK(read_traces_buffer("inline", doc.data(), doc.size(), [](const RawSpan&) {}).format == Format::zipkin);
  check_lookups_diagnosed(assemble_text(doc));
}

TEST_CASE(
    "text ids: OTLP JSON Lines with text ids, from a buffer and from a mapped file, as hex ids would be") {
  auto trace_text = [](int t) { return fmt::format("trace-otlp-{}", t); };
  std::string text = otlp(text_ids(), trace_text);
  check_lookups_diagnosed(assemble_text(text));

  Assembler a;
  auto stats = read_traces(test::write_temp("text_ids.jsonl", text), [&](const RawSpan& s) { a.add(s); });
  CHECK(stats.format == Format::otlp_jsonl);
  check_lookups_diagnosed(a.finish());

  // The same requests with hex ids: the same diagnosis.
  auto hex_shape = lookups("00000000000000a0", [](int i) { return fmt::format("{:016x}", 0xb0 + i); });
  Snapshot hex = assemble_text(otlp(hex_shape, [](int t) { return fmt::format("{:032x}", t); }));
  check_lookups_diagnosed(hex);
}

TEST_CASE("text ids: the same text is the same id in every field, different texts are different ids") {
  auto spans = read_spans(zipkin(text_ids()));
  REQUIRE(spans.size() == kRequests * (kLookups + 1));
  const RawSpan& root = spans[0];
  CHECK(root.id != 0);
  CHECK(root.parent == 0);  // no parentId
  CHECK(root.trace != TraceId{});
  for (int i = 1; i <= kLookups; ++i) {
    CAPTURE(i);
    CHECK(spans[i].trace == root.trace);
    CHECK(spans[i].parent == root.id);
    CHECK(spans[i].id != root.id);
    CHECK(spans[i].id != 0);
    for (int j = 1; j < i; ++j) CHECK(spans[i].id != spans[j].id);
  }
  const RawSpan& next_root = spans[kLookups + 1];  // "trace-zipkin-2": another trace, the same span id
  CHECK(next_root.trace != root.trace);
  CHECK(next_root.trace.hi != root.trace.hi);
  CHECK(next_root.trace.lo != root.trace.lo);
  CHECK(next_root.id == root.id);
  // Jaeger and OTLP read "span-root" as the same id as Zipkin does.
  CHECK(read_spans(jaeger(text_ids()))[0].id == root.id);
  CHECK(read_spans(otlp(text_ids(), [](int) { return "t"; }))[0].id == root.id);
}

TEST_CASE("text ids: JSON numbers and unpadded hex are ids too, and Jaeger references resolve to them") {
  // Hand-written Jaeger: numeric ids (spaces around one), referenced as strings; unpadded hex as older
  // clients wrote it.
  std::string doc = R"({"data":[{"traceID":42,"spans":[
    {"traceID":42,"spanID": 7 ,"operationName":"GET /a","references":[],"startTime":1000,"duration":100000,
     "processID":"p","tags":[{"key":"span.kind","value":"server"},{"key":"http.route","value":"/a"}]},
    {"traceID":"42","spanID":"abc","operationName":"SELECT","references":[{"refType":"CHILD_OF","spanID":"7"}],
     "startTime":2000,"duration":60000,"processID":"p",
     "tags":[{"key":"span.kind","value":"client"},{"key":"db.system","value":"postgresql"}]},
    {"traceID":"0042","spanID":"span:12","operationName":"SELECT","references":[{"refType":"CHILD_OF","spanID":"0000000000000abc"}],
     "startTime":3000,"duration":10000,"processID":"p",
     "tags":[{"key":"span.kind","value":"client"},{"key":"db.system","value":"postgresql"}]}
  ],"processes":{"p":{"serviceName":"svc"}}}]})";
  auto spans = read_spans(doc);
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].id == 7);
  CHECK(spans[1].id == 0xabc);
  CHECK(spans[1].parent == spans[0].id);
  CHECK(spans[2].parent == spans[1].id);
  CHECK(spans[0].trace == spans[1].trace);
  CHECK(spans[0].trace == spans[2].trace);
  auto snap = assemble_text(doc);
  CHECK(snap.requests == 1);
  CHECK(snap.orphans == 0);
  REQUIRE(snap.routes.size() == 1);
  CHECK(snap.routes[0].database_ms == doctest::Approx(60));  // the nested query is within its parent's
}

TEST_CASE("text ids: OTLP ids with escapes, past 256 characters, or 32 digits for a span, are read whole") {
  auto span = [](const std::string& trace, const std::string& id, const std::string& parent, int kind,
                 int start_ms, int dur_ms) {
    return fmt::format(
        R"({{"traceId":"{}","spanId":"{}","parentSpanId":"{}","name":"n","kind":{},"startTimeUnixNano":"{}",)"
        R"("endTimeUnixNano":"{}","attributes":[{{"key":"db.system","value":{{"stringValue":"postgresql"}}}}]}})",
        trace, id, parent, kind, start_ms * 1'000'000LL, (start_ms + dur_ms) * 1'000'000LL);
  };
  std::string long_id(300, 'x');
  // 15 characters and an escaped quote: the fast path's 16 characters end inside the id.
  std::string root = R"(span-root-00001\"a)", other_root = R"(span-root-00001\"b)";
  std::string spans = span(R"(trace \"one\")", root, "", 2, 0, 100) + "," +
                      span(R"(trace \u0022one\u0022)", long_id, R"(span-root-00001\u0022a)", 3, 10, 50) +
                      "," + span(R"(trace \"one\")", "0102030405060708090a0b0c0d0e0f10", long_id, 3, 20, 30) +
                      "," + span("trace two", other_root, "", 2, 0, 100);
  std::string doc = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" + spans + "]}]}]}";
  auto read = read_spans(doc);
  REQUIRE(read.size() == 4);
  CHECK(read[1].trace == read[0].trace);
  CHECK(read[1].parent == read[0].id);
  CHECK(read[2].parent == read[1].id);
  CHECK(read[2].id != 0);
  CHECK(read[3].id != read[0].id);  // differs after the escaped quote only
  auto snap = assemble_text(doc);
  CHECK(snap.requests == 2);
  CHECK(snap.orphans == 0);
}

TEST_CASE("text ids: hex and base64 ids are decoded as before, empty ids keep their meaning") {
  std::string doc = R"([
    {"traceId":"00000000000000a1","id":"0000000000000001","name":"get /a","kind":"SERVER","timestamp":1,"duration":9},
    {"traceId":"a1","id":"02","parentId":"0000000000000001","name":"q","kind":"CLIENT","timestamp":2,"duration":1},
    {"traceId":"00000000000000000000000000000a1","id":"3","parentId":"","name":"r","timestamp":2,"duration":1}
  ])";
  auto spans = read_spans(doc);
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].trace == TraceId{0, 0xa1});
  CHECK(spans[1].trace == TraceId{0, 0xa1});
  CHECK(spans[2].trace == TraceId{0, 0xa1});  // 31 digits: a number like the others
  CHECK(spans[1].id == 2);
  CHECK(spans[1].parent == 1);
  CHECK(spans[2].id == 3);
  CHECK(spans[2].parent == 0);  // "": no parent
  std::string b64 = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==",
    "spanId":"ERITFBUWFxg=","parentSpanId":"","name":"x","kind":2,"startTimeUnixNano":1,"endTimeUnixNano":2}]}]}]})";
  auto b = read_spans(b64);
  REQUIRE(b.size() == 1);
  CHECK(b[0].trace == TraceId{0x0102030405060708ull, 0x090a0b0c0d0e0f10ull});
  CHECK(b[0].id == 0x1112131415161718ull);
  CHECK(b[0].parent == 0);
}

TEST_CASE("text ids: still refused — an empty trace id, and an id that is neither a string nor a number") {
  std::string empty_trace =
      trace_read_error(R"([{"traceId":"","id":"span-root","name":"x","timestamp":1,"duration":2}])");
  CHECK(empty_trace.find("empty traceId") != std::string::npos);
  CHECK(empty_trace.find("input.json:1:") == 0);
  CHECK(empty_trace.find(": byte ") != std::string::npos);
  std::string jaeger_empty =
      trace_read_error(R"({"data":[{"spans":[{"traceID":"","spanID":"s"}],"processes":{}}]})");
  CHECK(jaeger_empty.find("empty traceId") != std::string::npos);
  for (const char* id : {"true", "{}", "[\"a\"]", "null"}) {
    CAPTURE(id);
    std::string otlp_doc = fmt::format(
        R"({{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"t","spanId":{}}}]}}]}}]}})", id);
    CHECK(trace_read_error(otlp_doc).find("wrong type") != std::string::npos);
    std::string zipkin_doc = fmt::format(R"([{{"traceId":"t","id":"s","parentId":{}}}])", id);
    CHECK(trace_read_error(zipkin_doc).find("wrong type") != std::string::npos);
  }
}

}  // namespace test_traces_ids
