// Keeps a scenario's services running while something else watches them (a live diagnosis:
// tests/tools/test_one_system.sh), and drives their load on demand. capture.js's services, env and
// driver, without the capture sink: the services export OTLP straight to OTLP_ENDPOINT.
//
//   node serve.js start STATE_DIR SCENARIO [--with SERVICE]...
//       starts the --with services (extra dependencies, e.g. one that chokepoint's --http polls),
//       then the scenario's (dependencies first, the entry last); writes STATE_DIR/services.json
//       ({"entry": NAME, "services": {NAME: {"url", "pid"}}}) once all listen; runs until SIGTERM or
//       SIGINT, then stops them (SIGTERM, SIGKILL after 2 s).
//   node serve.js drive SCENARIO ENTRY_URL [--requests N] [--seconds S] [--concurrency C] [--pause-ms P]
//       sends the scenario's requests (at most N, none started after S seconds), prints
//       {"statuses": {...}, "requests": n, "ms": t} on stdout; exit 2 on an unexpected status.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { SCENARIOS } = require('./scenarios');
const { startService, stopService, serviceEnv, drive } = require('./capture');

function fail(message) {
  console.error(`serve: ${message}`);
  process.exit(2);
}

function scenarioOf(name) {
  const scenario = SCENARIOS[name];
  if (!scenario) fail(`unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(' ')})`);
  return scenario;
}

// --name value pairs after the positional arguments; --with may repeat.
function options(args) {
  const out = { with: [] };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, '');
    if (args[i + 1] === undefined) fail(`${args[i]} needs a value`);
    if (key === 'with') out.with.push(args[i + 1]);
    else out[key] = Number(args[i + 1]);
  }
  return out;
}

async function start(stateDir, name, args) {
  const scenario = scenarioOf(name);
  if (!process.env.OTLP_ENDPOINT) fail('OTLP_ENDPOINT is not set (the receiver the services export to)');
  for (const key of ['PG_APP_DSN', 'REDIS_URL']) if (!process.env[key]) fail(`${key} is not set`);
  const extra = options(args).with.filter((s) => !scenario.services.includes(s));
  const order = [...extra, ...scenario.services];
  const sink = { url: process.env.OTLP_ENDPOINT };
  const started = [];
  const urls = {};
  let stopping = false;
  // All at once, and killed after 2 s: once the watcher's window is over nothing they still export
  // is read (and a tracer flushing to a receiver that has gone would retry for seconds).
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(0), 2000); // the exit handler SIGKILLs the rest
    await Promise.all(started.map((s) => stopService(s)));
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('SIGTERM', stopAll);
  process.on('SIGINT', stopAll);
  for (const service of order) {
    const s = await startService(service, serviceEnv(service, 'otlp', sink, urls, scenario), 'otlp');
    started.push(s);
    urls[service] = s.url;
  }
  const services = Object.fromEntries(started.map((s) => [s.name, { url: s.url, pid: s.child.pid }]));
  const state = { entry: scenario.services[scenario.services.length - 1], services };
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'services.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state));
  fs.renameSync(`${file}.tmp`, file);
  // Until a signal: the services run in their own processes.
  setInterval(() => {}, 1 << 30);
}

async function driveOnly(name, entryUrl, args) {
  const scenario = scenarioOf(name);
  const o = options(args);
  const t0 = Date.now();
  const statuses = await drive(scenario, entryUrl, {
    requests: o.requests,
    concurrency: o.concurrency,
    pauseMs: o['pause-ms'],
    deadline: o.seconds ? t0 + o.seconds * 1000 : undefined,
  });
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({ statuses, requests, ms: Date.now() - t0 }));
  const bad = Object.keys(statuses).filter((s) => !(scenario.expectStatus || [200]).includes(Number(s)));
  if (bad.length) fail(`unexpected HTTP statuses ${JSON.stringify(statuses)}`);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'start' && rest.length >= 2) start(rest[0], rest[1], rest.slice(2)).catch((err) => fail(err.message));
else if (command === 'drive' && rest.length >= 2) driveOnly(rest[0], rest[1], rest.slice(2)).catch((err) => fail(err.message));
else fail('usage: serve.js start STATE_DIR SCENARIO [--with SERVICE]... | drive SCENARIO ENTRY_URL [--requests N] [--seconds S] [--concurrency C] [--pause-ms P]');
