// Drives each scenario against freshly started services and writes what their tracers exported:
//   <scenario>.otlp.jsonl   OTLP/JSON Lines: each export request body the OpenTelemetry SDK sent,
//                           one per line (as the collector's file exporter writes them)
//   <scenario>.zipkin.json  Zipkin v2 JSON array of every span zipkin-js sent
// Usage: node capture.js OUT_DIR [SCENARIO...]   (see capture.sh for the environment)
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { fork } = require('node:child_process');
const { SCENARIOS } = require('./scenarios');

const HERE = __dirname;
const FORMATS = (process.env.CAPTURE_FORMATS || 'otlp zipkin').split(/[\s,]+/).filter(Boolean);

function log(message) {
  if (process.env.CAPTURE_VERBOSE) console.error(`capture: ${message}`);
}

function fail(message) {
  console.error(`capture: ${message}`);
  process.exit(2);
}

// The capture sink: an OTLP/HTTP (JSON) and Zipkin v2 receiver on loopback, in this process.
function startSink() {
  const sink = { otlp: [], zipkin: [], requests: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      sink.requests++;
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const type = req.headers['content-type'] || '';
      try {
        if (req.method === 'POST' && req.url === '/v1/traces' && type.startsWith('application/json')) {
          sink.otlp.push(JSON.stringify(JSON.parse(body.toString('utf8'))));
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{}');
        }
        if (req.method === 'POST' && req.url === '/api/v2/spans') {
          sink.zipkin.push(...JSON.parse(body.toString('utf8')));
          res.writeHead(202);
          return res.end();
        }
      } catch (err) {
        res.writeHead(400);
        return res.end(String(err.message));
      }
      res.writeHead(415);
      res.end(`the capture sink takes OTLP/HTTP JSON on /v1/traces and Zipkin v2 JSON on /api/v2/spans, not ${type} on ${req.url}`);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      sink.url = `http://127.0.0.1:${server.address().port}`;
      sink.close = () => new Promise((r) => server.close(r));
      resolve(sink);
    });
  });
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// The services that are not instrumented: the third-party API and the slow link (the network).
const UNINSTRUMENTED = new Set(['third_party', 'link_proxy']);

// Starts one service (services/<name>.js) and resolves with its URL once it listens.
function startService(name, env, format) {
  const execArgv = format === 'otlp' && !UNINSTRUMENTED.has(name) ? ['--require', path.join(HERE, 'lib/otel.js')] : [];
  const child = fork(path.join(HERE, 'services', `${name}.js`), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20000);
    child.once('message', (msg) => {
      clearTimeout(timer);
      resolve({ name, child, url: `http://127.0.0.1:${msg.port}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it listened`));
    });
  });
}

function stopService(service) {
  return new Promise((resolve) => {
    if (service.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => service.child.kill('SIGKILL'), 10000);
    service.child.once('exit', () => {
      clearTimeout(timer);
      children.delete(service.child);
      resolve();
    });
    service.child.kill('SIGTERM');
  });
}

// The environment each service reads: the datastores, the URLs of the services started before it,
// and where its tracer exports.
function serviceEnv(name, format, sink, urls, scenario) {
  const env = {
    SERVICE_NAME: name,
    OTEL_SERVICE_NAME: name,
    TRACER: format === 'zipkin' ? 'zipkin' : 'otel',
    PG_APP_DSN: process.env.PG_APP_DSN,
    REDIS_URL: process.env.REDIS_URL,
    OTLP_ENDPOINT: process.env.OTLP_ENDPOINT || sink.url,
    OTLP_PROTOCOL: process.env.OTLP_ENDPOINT ? process.env.OTLP_PROTOCOL || 'http/json' : 'http/json',
    ZIPKIN_ENDPOINT: sink.url,
    CARRIER_API: urls.third_party,
    PAYMENT_API: urls.third_party,
    RECOMMENDATIONS_URL: urls.recommendations,
    REPORTING_URL: urls.reporting,
    // delayed_link: cart -> link_proxy -> pricing
    UPSTREAM_URL: urls.pricing,
    PRICING_URL: urls.link_proxy || urls.pricing,
    AMQP_URL: process.env.AMQP_URL,
    ...(scenario.env || {}),
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

// Sends the scenario's requests (loopback only, bounded), `concurrency` at a time. Options (serve.js):
// requests and concurrency instead of the scenario's, deadline (Date.now() value) after which no
// request is started, pauseMs between a worker's requests.
async function drive(scenario, entryUrl, options = {}) {
  const requests = options.requests || scenario.requests;
  const deadline = options.deadline || Infinity;
  let next = 0;
  const statuses = {};
  async function worker() {
    while (next < requests && Date.now() < deadline) {
      const { method = 'GET', path: p, body } = scenario.request(next++);
      const res = await fetch(`${entryUrl}${p}`, {
        method,
        signal: AbortSignal.timeout(15000),
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] || 0) + 1;
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  }
  await Promise.all(Array.from({ length: options.concurrency || scenario.concurrency || 1 }, worker));
  return statuses;
}

async function captureOne(name, format, sink, outDir) {
  const scenario = SCENARIOS[name];
  sink.otlp.length = 0;
  sink.zipkin.length = 0;
  const started = [];
  const urls = {};
  const t0 = Date.now();
  try {
    for (const service of scenario.services) {
      const s = await startService(service, serviceEnv(service, format, sink, urls, scenario), format);
      started.push(s);
      urls[service] = s.url;
    }
    const t1 = Date.now();
    const statuses = await drive(scenario, urls[scenario.services[scenario.services.length - 1]]);
    log(`${name} (${format}): started in ${t1 - t0} ms, ${scenario.requests} requests in ${Date.now() - t1} ms`);
    // Work that outlives its response (the proxy timeout's upstream) ends before the services stop.
    await new Promise((r) => setTimeout(r, scenario.settleMs || 300));
    const bad = Object.keys(statuses).filter((s) => !(scenario.expectStatus || [200]).includes(Number(s)));
    if (bad.length) throw new Error(`unexpected HTTP statuses ${JSON.stringify(statuses)}`);
  } finally {
    // Entry services first: their last spans are the longest.
    for (const s of started.reverse()) await stopService(s);
  }
  const file = path.join(outDir, `${name}.${format === 'otlp' ? 'otlp.jsonl' : 'zipkin.json'}`);
  let spans;
  if (format === 'otlp') {
    if (process.env.OTLP_ENDPOINT) {
      console.log(`capture: ${name} (otlp): exported to ${process.env.OTLP_ENDPOINT}, ${Date.now() - t0} ms`);
      return;
    }
    spans = sink.otlp.reduce((n, line) => n + countOtlpSpans(JSON.parse(line)), 0);
    fs.writeFileSync(file, scrubPaths(sink.otlp.map((l) => `${l}\n`).join('')));
  } else {
    spans = sink.zipkin.length;
    fs.writeFileSync(file, scrubPaths(`[\n${sink.zipkin.map((s) => JSON.stringify(s)).join(',\n')}\n]\n`));
  }
  if (spans === 0) throw new Error(`${name} (${format}): no spans were exported`);
  console.log(`capture: ${path.basename(file)}: ${spans} spans, ${Date.now() - t0} ms`);
}

// Exception stack traces hold this machine's paths: make them relative to the repository (and the
// npm packages' directory), as the code.filepath attributes are.
const REPO = path.resolve(HERE, '../../..');
function scrubPaths(text) {
  let out = text.split(`${REPO}/`).join('');
  if (process.env.NODE_PATH) out = out.split(`${path.resolve(process.env.NODE_PATH)}/`).join('node_modules/');
  return out;
}

function countOtlpSpans(request) {
  let n = 0;
  for (const rs of request.resourceSpans || []) for (const ss of rs.scopeSpans || []) n += (ss.spans || []).length;
  return n;
}

async function main() {
  const [outDir, ...names] = process.argv.slice(2);
  if (!outDir) fail('usage: capture.js OUT_DIR [SCENARIO...]');
  for (const key of ['PG_APP_DSN', 'REDIS_URL']) if (!process.env[key]) fail(`${key} is not set`);
  const scenarios = names.length ? names : Object.keys(SCENARIOS).filter((n) => !SCENARIOS[n].live);
  for (const name of scenarios) if (!SCENARIOS[name]) fail(`unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(' ')})`);
  for (const name of scenarios) {
    if (SCENARIOS[name].needs === 'rabbitmq' && !process.env.AMQP_URL) fail(`${name} needs a RabbitMQ broker: AMQP_URL is not set (capture.sh starts one)`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const sink = await startSink();
  for (const name of scenarios) {
    for (const format of FORMATS) {
      if (format === 'zipkin' && SCENARIOS[name].zipkin === false) continue;
      await captureOne(name, format, sink, outDir);
    }
  }
  await sink.close();
}

// serve.js starts and drives the same services while chokepoint watches (a live diagnosis).
module.exports = { startService, stopService, serviceEnv, drive, UNINSTRUMENTED };

if (require.main === module) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  main().catch((err) => fail(err.message));
}
