// OpenTelemetry set-up, preloaded the way users do it: node --require ./lib/otel.js service.js
// Auto-instrumentation of http, express, pg, ioredis, graphql, sequelize and amqplib (each patches
// its module only where a service loads it; koa has none here); OTLP/HTTP export (JSON or protobuf, per
// OTLP_PROTOCOL) to OTLP_ENDPOINT (the capture sink, or a real receiver).
'use strict';
const path = require('node:path');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { envDetector } = require('@opentelemetry/resources');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg');
const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql');
const { SequelizeInstrumentation } = require('@opentelemetry/instrumentation-sequelize');
const { AmqplibInstrumentation } = require('@opentelemetry/instrumentation-amqplib');
const { CodeLocationProcessor } = require('./code_location');
const { DropSpansProcessor } = require('./drop_spans');

// Traces only: without these the SDK also starts metric and log exporters to localhost:4318.
process.env.OTEL_METRICS_EXPORTER ||= 'none';
process.env.OTEL_LOGS_EXPORTER ||= 'none';

function traceExporter() {
  const endpoint = `${(process.env.OTLP_ENDPOINT || '').replace(/\/+$/, '')}/v1/traces`;
  const protocol = process.env.OTLP_PROTOCOL || 'http/json';
  if (protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter({ url: endpoint });
  }
  if (protocol !== 'http/json') throw new Error(`OTLP_PROTOCOL ${protocol}: use http/json or http/protobuf`);
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter({ url: endpoint });
}

// A batch per second, as the SDK's defaults do in production (5 s) but quicker for a test run.
const exporting = new BatchSpanProcessor(traceExporter(), { scheduledDelayMillis: 500, maxExportBatchSize: 512 });
const spanProcessors = [new CodeLocationProcessor(path.resolve(__dirname, '../../../..'))];
spanProcessors.push(process.env.DROP_SPANS_ROUTE ? new DropSpansProcessor(exporting, process.env.DROP_SPANS_ROUTE) : exporting);

const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME,
  // Only OTEL_RESOURCE_ATTRIBUTES: the host and process detectors would put this machine's name
  // and paths into the committed captures.
  resourceDetectors: [envDetector],
  spanProcessors,
  instrumentations: [
    new HttpInstrumentation(),
    new UndiciInstrumentation(), // the global fetch
    new ExpressInstrumentation(),
    // enhancedDatabaseReporting records the bind values (db.postgresql.values): what tells a
    // repeated identical statement from an N+1 of distinct ids. PG_BIND_VALUES=off: the
    // instrumentation's default, statements with their $n placeholders and no values.
    new PgInstrumentation({ enhancedDatabaseReporting: process.env.PG_BIND_VALUES !== 'off' }),
    new IORedisInstrumentation(),
    // Resolvers with their own resolve function only (not one span per scalar field).
    new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true }),
    new SequelizeInstrumentation(),
    new AmqplibInstrumentation(),
  ],
});
sdk.start();

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  const t0 = Date.now();
  try {
    await sdk.shutdown();
  } finally {
    if (process.env.CAPTURE_VERBOSE) console.error(`${process.env.OTEL_SERVICE_NAME}: tracer shut down in ${Date.now() - t0} ms`);
    process.exit(0);
  }
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
