// zipkin-js set-up: CLS context (async/await aware), a batch recorder with the HTTP transport in
// Zipkin v2 JSON, 128-bit trace ids. Servers join the caller's span (supportsJoin, the default), so
// the client and server halves of a call share one span id and the server half is "shared": true.
'use strict';
const { Tracer, BatchRecorder, jsonEncoder } = require('zipkin');
const CLSContext = require('zipkin-context-cls');
const { HttpLogger } = require('zipkin-transport-http');
const zipkinMiddleware = require('zipkin-instrumentation-express').expressMiddleware;
const wrapFetch = require('zipkin-instrumentation-fetch');
const zipkinPostgres = require('zipkin-instrumentation-postgres');
const zipkinRedis = require('zipkin-instrumentation-redis');

// Loses the entry (server) spans of one route before they are sent: see lib/drop_spans.js.
class DroppingLogger {
  constructor(next, route) { this.next = next; this.route = route; }
  logSpan(span) {
    if (span.kind === 'SERVER' && span.name && span.name.toLowerCase().endsWith(` ${this.route}`.toLowerCase())) return;
    this.next.logSpan(span);
  }
}

function setup(serviceName) {
  const httpLogger = new HttpLogger({
    endpoint: `${process.env.ZIPKIN_ENDPOINT}/api/v2/spans`,
    jsonEncoder: jsonEncoder.JSON_V2,
    httpInterval: 500,
  });
  const logger = process.env.DROP_SPANS_ROUTE ? new DroppingLogger(httpLogger, process.env.DROP_SPANS_ROUTE) : httpLogger;
  const recorder = new BatchRecorder({ logger });
  const tracer = new Tracer({ ctxImpl: new CLSContext('zipkin', true), recorder, localServiceName: serviceName, traceId128Bit: true });
  return {
    middleware: () => zipkinMiddleware({ tracer, serviceName }),
    fetchFor: (remoteServiceName) => wrapFetch(fetch, { tracer, serviceName, remoteServiceName }),
    pg: (pg) => zipkinPostgres(tracer, pg, serviceName, 'postgres'),
    redis(url) {
      const { hostname, port, pathname } = new URL(url);
      const client = zipkinRedis(tracer, require('redis'), { host: hostname, port: Number(port), db: Number(pathname.slice(1) || 0) }, serviceName, 'redis');
      return { get: (key) => new Promise((resolve, reject) => client.get(key, (err, v) => (err ? reject(err) : resolve(v)))) };
    },
    async shutdown() {
      recorder.flush();
      if (httpLogger.queue.length === 0) return;
      const sent = new Promise((resolve) => { httpLogger.once('success', resolve); httpLogger.once('error', resolve); });
      httpLogger.processQueue(fetch);
      await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, 2000))]);
    },
  };
}

module.exports = { setup };
