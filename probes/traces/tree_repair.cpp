// What agents' parent links do not say, read from the spans' times and names before a request is
// analysed: calls parented beside the span that covers them (flat parent links), a statement sent
// by one span and timed by another (PDO prepare / execute), an ORM's span over its driver's.
#include <algorithm>

#include "probes/traces/assemble.hpp"
#include "probes/traces/conventions.hpp"

namespace cp::traces {

// A span of the same service as its parent that starts before it or ends after it is no clock skew
// (one clock): it is work its parent started and did not wait for — a GraphQL list's item resolvers
// run after the list's resolver returned. It hangs under the nearest ancestor of its service that
// covers it, where the request did wait for it.
bool Assembler::hang_outliving_spans() {
  bool moved = false;
  for (Node& node : nodes_) {
    if (!node.in_tree || node.parent < 0) continue;
    const Span& s = *node.span;
    auto covers = [&](int32_t a) {
      const Span& up = *nodes_[static_cast<size_t>(a)].span;
      // Start times in whole milliseconds (many SDKs) make a child seem to outlive its parent by
      // up to 1 ms.
      int64_t slack = s.start_ns % 1'000'000 == 0 || up.start_ns % 1'000'000 == 0 ? 1'000'000 : 0;
      return up.start_ns <= s.start_ns + slack && s.end_ns <= up.end_ns + slack;
    };
    auto same_service = [&](int32_t a) { return nodes_[static_cast<size_t>(a)].span->service == s.service; };
    if (!same_service(node.parent) || covers(node.parent)) continue;
    int32_t up = nodes_[static_cast<size_t>(node.parent)].parent;
    for (size_t steps = 0; up >= 0 && same_service(up) && !covers(up) && steps < nodes_.size(); ++steps)
      up = nodes_[static_cast<size_t>(up)].parent;
    if (up >= 0 && same_service(up) && covers(up)) {
      node.parent = up;
      moved = true;
    }
  }
  return moved;
}

// Flat parent links (Rails, Django, .NET agents): every span of a transaction hangs under its root,
// beside the span that ran it — a controller action or middleware that covers the calls in time.
// A database, cache or external call is adopted by the innermost sibling of its service that is own
// code (an internal span) and covers its whole interval; own-code siblings are not adopted
// (concurrent resolvers or workers overlap by chance). The critical path then walks into the
// covering span and finds the calls there, instead of counting their time as its own code.
bool Assembler::adopt_covered_spans() {
  bool moved = false;
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].in_tree && nodes_[i].count >= 2) moved = adopt_covered_children(i) || moved;
  return moved;
}

bool Assembler::adopt_covered_children(uint32_t parent) {
  const Node& p = nodes_[parent];
  bool container = false;
  for (uint32_t k = 0; k < p.count && !container; ++k) {
    const Span& c = *nodes_[child_list_[p.first + k]].span;
    container = c.cls == SpanClass::internal && c.end_ns > c.start_ns;
  }
  if (!container) return false;  // the common case: nothing could cover a sibling
  fill_.assign(child_list_.begin() + p.first, child_list_.begin() + p.first + p.count);
  std::sort(fill_.begin(), fill_.end(), [&](uint32_t a, uint32_t b) {
    const Span &x = *nodes_[a].span, &y = *nodes_[b].span;
    return std::tie(x.start_ns, y.end_ns, a) < std::tie(y.start_ns, x.end_ns, b);
  });
  bool moved = false;
  stack_.clear();  // internal siblings still open, outermost first
  for (uint32_t c : fill_) {
    const Span& s = *nodes_[c].span;
    while (!stack_.empty() && nodes_[stack_.back()].span->end_ns <= s.start_ns) stack_.pop_back();
    if (s.cls != SpanClass::request && s.cls != SpanClass::internal) {
      for (size_t k = stack_.size(); k-- > 0;) {
        const Span& cover = *nodes_[stack_[k]].span;
        if (cover.end_ns >= s.end_ns && cover.service == s.service) {
          nodes_[c].parent = static_cast<int32_t>(stack_[k]);
          moved = true;
          break;
        }
      }
    }
    if (s.cls == SpanClass::internal && s.end_ns > s.start_ns) stack_.push_back(c);
  }
  return moved;
}

// One database call, two spans: counted once.
// - A statement prepared by one span and executed by the next (PHP PDO::prepare then
//   PDOStatement::execute, Doctrine's prepare / execute): the execute, which has no statement of its
//   own, takes the prepared one; the prepare is counted with it.
// - An ORM's span over its driver's (Sequelize, TypeORM, Hibernate over JDBC): the outer span
//   stands for a single inner call (taking its statement if it had none); over several calls (a
//   transaction, a batch) the inner calls count and the outer span does not.
void Assembler::join_split_statements() {
  for (Node& node : nodes_) {
    if (!node.in_tree || node.count == 0) continue;
    int32_t prepared = -1;  // the last sibling that prepared a statement
    uint32_t inner = 0, last_inner = 0;
    bool unnamed = false;  // a child without a statement: only then look for prepares
    for (uint32_t k = 0; k < node.count && !unnamed; ++k)
      unnamed = nodes_[child_list_[node.first + k]].span->statement_from_name;
    if (!unnamed && node.span->cls != SpanClass::database) continue;  // nothing to join (most nodes)
    for (uint32_t k = 0; k < node.count; ++k) {
      uint32_t c = child_list_[node.first + k];
      Span& s = *nodes_[c].span;
      if (s.cls != SpanClass::database) continue;
      ++inner;
      last_inner = c;
      if (!unnamed) continue;
      if (!s.statement_from_name && prepares_statement(strings_.str(s.name))) {
        prepared = static_cast<int32_t>(c);
      } else if (s.statement_from_name && prepared >= 0) {
        const Span& prep = *nodes_[static_cast<size_t>(prepared)].span;
        s.statement = prep.statement;
        s.identity = prep.identity;
        s.statement_from_name = false;
        nodes_[static_cast<size_t>(prepared)].counted_elsewhere = true;
        prepared = -1;
      }
    }
    if (inner == 0 || node.span->cls != SpanClass::database || node.span->pool_wait) continue;
    if (inner == 1) {
      Span& only = *nodes_[last_inner].span;
      if (node.span->statement_from_name && !only.statement_from_name) {
        node.span->statement = only.statement;
        node.span->identity = only.identity;
        node.span->statement_from_name = false;
      }
      nodes_[last_inner].counted_elsewhere = true;
    } else {
      node.counted_elsewhere = true;
    }
  }
}

// The nearest span both hang under (depths are set by the request's walk).
uint32_t Assembler::common_parent(uint32_t a, uint32_t b) const {
  auto up = [&](uint32_t n) {
    int32_t p = nodes_[n].parent;
    return p < 0 ? n : static_cast<uint32_t>(p);
  };
  while (nodes_[a].depth > nodes_[b].depth) a = up(a);
  while (nodes_[b].depth > nodes_[a].depth) b = up(b);
  for (size_t steps = 0; a != b && steps < nodes_.size(); ++steps) {
    a = up(a);
    b = up(b);
  }
  return a;
}

// A gateway's catch-all route ("/*", "*", "/{*path}", "/:path*", "(.*)") names no endpoint.
bool Assembler::is_catch_all(uint32_t route) const {
  std::string_view r = strings_.str(route);
  if (r.empty()) return false;
  return r.back() == '*' || r == "(.*)" || r.find("{*") != std::string_view::npos ||
         r.find("/**") != std::string_view::npos;
}

// Behind a catch-all route: the route of the first server span of another service the request
// reached (the endpoint the gateway forwarded to), or 0.
uint32_t Assembler::downstream_route(uint32_t root) const {
  const Span& entry = *nodes_[root].span;
  const Span* best = nullptr;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const Span& s = *nodes_[i].span;
    if (!nodes_[i].in_tree || s.cls != SpanClass::request || s.service == entry.service) continue;
    if (s.start_ns < entry.start_ns || s.end_ns > entry.end_ns || !s.route || is_catch_all(s.route)) continue;
    if (!best || s.start_ns < best->start_ns) best = &s;
  }
  return best ? best->route : 0;
}

}  // namespace cp::traces
