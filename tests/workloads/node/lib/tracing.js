// What a service needs from its tracer, for the two ways the workloads are instrumented:
//   TRACER=otel (default)  OpenTelemetry auto-instrumentation, preloaded by lib/otel.js: nothing to
//                          wrap here, the plain modules are patched.
//   TRACER=zipkin          zipkin-js, wired by hand as its users do: the express middleware, a
//                          wrapped fetch per remote service, the pg client wrapper; Zipkin v2 JSON
//                          over HTTP to ZIPKIN_ENDPOINT.
'use strict';
const pg = require('pg');

const serviceName = process.env.SERVICE_NAME;
const useZipkin = process.env.TRACER === 'zipkin';
const zipkin = useZipkin ? require('./zipkin').setup(serviceName) : null;

module.exports = {
  serviceName,
  // Adds the middleware recording server spans to an express app (none with OpenTelemetry: the
  // http and express instrumentations do it).
  instrument(app) {
    if (zipkin) app.use(zipkin.middleware());
  },
  // fetch for calls to one remote service (named for Zipkin's remoteEndpoint).
  fetchFor(remoteServiceName) {
    return zipkin ? zipkin.fetchFor(remoteServiceName) : fetch;
  },
  // A Redis client with a promise-returning get(key): ioredis (patched by the OpenTelemetry
  // instrumentation), or for Zipkin the redis@3 client wrapped by zipkin-instrumentation-redis
  // (zipkin-js has no ioredis instrumentation).
  redis(url) {
    if (zipkin) return zipkin.redis(url);
    const Redis = require('ioredis');
    return new Redis(url);
  },
  // The pg module whose Pool's queries are traced.
  pg() {
    return zipkin ? zipkin.pg(pg) : pg;
  },
  // Flushes pending spans; called before the process exits.
  async shutdown() {
    if (zipkin) await zipkin.shutdown();
  },
};
