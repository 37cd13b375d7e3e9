// Loses the entry spans of one route before export: the handler (server) span and the framework's
// handler spans are gone, their children stay (the n_plus_one_orphan scenario: a lost span, or a
// transaction span recorded by another agent).
'use strict';
const { SpanKind } = require('@opentelemetry/api');

class DropSpansProcessor {
  constructor(next, route) { this.next = next; this.route = route; }
  onStart(span, context) { this.next.onStart(span, context); }
  onEnd(span) {
    const route = span.attributes['http.route'] || span.attributes['express.name'];
    const entry = span.kind === SpanKind.SERVER || span.attributes['express.type'] === 'request_handler';
    if (entry && route === this.route) return;
    this.next.onEnd(span);
  }
  forceFlush() { return this.next.forceFlush(); }
  shutdown() { return this.next.shutdown(); }
}

module.exports = { DropSpansProcessor };
