// Structural checks of captures (what the CTest asserts after capture.sh): each file parses, holds
// the services, span kinds and datastore attributes its scenario must produce, and Zipkin calls
// between two instrumented services share one span id between the client and the server half.
//   node check_capture.js DIR SCENARIO...      exit 0 when every check holds, 1 otherwise
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { SCENARIOS } = require('./scenarios');

const KIND = { 1: 'INTERNAL', 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };

function attrValue(v) {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.arrayValue) return (v.arrayValue.values || []).map(attrValue);
  return Object.values(v)[0];
}

// One shape for both formats: {trace, id, parent, service, kind, name, attrs, remote, shared}.
function readOtlp(file) {
  const spans = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    for (const rs of JSON.parse(line).resourceSpans || []) {
      const resource = Object.fromEntries((rs.resource.attributes || []).map((a) => [a.key, attrValue(a.value)]));
      for (const ss of rs.scopeSpans || []) {
        for (const s of ss.spans || []) {
          spans.push({
            trace: s.traceId, id: s.spanId, parent: s.parentSpanId || '', service: resource['service.name'],
            kind: KIND[s.kind], name: s.name, attrs: Object.fromEntries((s.attributes || []).map((a) => [a.key, attrValue(a.value)])),
            start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano),
          });
        }
      }
    }
  }
  return spans;
}

function readZipkin(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8')).map((s) => ({
    trace: s.traceId, id: s.id, parent: s.parentId || '', service: s.localEndpoint && s.localEndpoint.serviceName,
    kind: s.kind, name: s.name, attrs: s.tags || {}, remote: s.remoteEndpoint && s.remoteEndpoint.serviceName,
    shared: s.shared === true, timed: s.timestamp !== undefined && s.duration !== undefined,
    start: BigInt(s.timestamp || 0) * 1000n, end: BigInt((s.timestamp || 0) + (s.duration || 0)) * 1000n,
  }));
}

const ZIPKIN_REMOTE_SYSTEM = { postgres: 'postgresql', redis: 'redis' };
function dbSystem(span) { return span.attrs['db.system.name'] || span.attrs['db.system'] || ZIPKIN_REMOTE_SYSTEM[span.remote]; }
function statement(span) { return span.attrs['db.query.text'] || span.attrs['db.statement']; }
function byTrace(spans) {
  const traces = new Map();
  for (const s of spans) traces.set(s.trace, [...(traces.get(s.trace) || []), s]);
  return [...traces.values()];
}

const failures = [];
function check(cond, what) {
  if (!cond) failures.push(what);
}

// Per scenario: the services that must appear, and what each trace must hold.
const EXPECT = {
  orm_n_plus_one: { services: ['storefront'], trace: (t, fmt) => nPlusOne(t, fmt, true) },
  n_plus_one_orphan: { services: ['storefront'], trace: (t, fmt) => nPlusOne(t, fmt, false) },
  redis_get_per_id: {
    services: ['storefront'],
    trace: (t, fmt) => {
      const gets = t.filter((s) => s.kind === 'CLIENT' && dbSystem(s) === 'redis' && (fmt === 'zipkin' ? s.name === 'get' : /^get /i.test(statement(s) || '')));
      check(gets.length >= 10, `${fmt}: ${gets.length} Redis GET client spans in a trace (>= 10 expected)`);
      if (fmt === 'otlp') check(new Set(gets.map(statement)).size === gets.length, 'otlp: each GET reads its own key');
    },
  },
  repeated_identical: {
    services: ['storefront'],
    trace: (t) => {
      const q = t.filter((s) => s.kind === 'CLIENT' && /app_settings/.test(statement(s) || ''));
      check(q.length >= 8, `repeated_identical: ${q.length} app_settings queries in a trace (>= 8 expected)`);
      check(new Set(q.map((s) => JSON.stringify(s.attrs['db.postgresql.values']))).size === 1, 'repeated_identical: one parameter value');
    },
  },
  fanout_serial: { services: ['storefront'], trace: (t, fmt) => externalCalls(t, fmt, 10, 'carrier-api') },
  fanout_concurrent: { services: ['storefront'], trace: (t, fmt) => externalCalls(t, fmt, 10, 'carrier-api') },
  slow_third_party: { services: ['storefront'], trace: (t, fmt) => externalCalls(t, fmt, 1, 'payment-provider') },
  callee_cpu_bound: { services: ['storefront', 'recommendations'], trace: (t, fmt) => calls(t, fmt, 'storefront', 'recommendations') },
  callee_db_wait: {
    services: ['storefront', 'reporting'],
    trace: (t, fmt) => {
      calls(t, fmt, 'storefront', 'reporting');
      check(t.some((s) => s.service === 'reporting' && s.kind === 'CLIENT' && dbSystem(s) === 'postgresql'), 'callee_db_wait: reporting queries PostgreSQL');
    },
  },
  proxy_timeout: { services: ['gateway', 'reporting'], trace: (t, fmt) => calls(t, fmt, 'gateway', 'reporting') },
  flat_parent_n_plus_one: {
    services: ['backoffice'],
    trace: (t) => {
      const q = lookups(t, /FROM customers WHERE id = \$1/, 10);
      const action = t.find((s) => s.name === 'process_action');
      const handler = t.find((s) => s.attrs['express.type'] === 'request_handler');
      check(action && handler && action.parent === handler.id, 'flat_parent: process_action is a child of the request handler span');
      check(handler && q.every((s) => s.parent === handler.id), 'flat_parent: the lookups are children of the request handler span, not of process_action');
      check(action && q.every((s) => s.start >= action.start && s.end <= action.end + 1000000n), 'flat_parent: process_action covers the lookups in time');
    },
  },
  placeholder_n_plus_one: {
    services: ['backoffice'],
    trace: (t) => {
      const q = lookups(t, /FROM products WHERE id = \$1/, 8);
      check(t.every((s) => s.attrs['db.postgresql.values'] === undefined), 'placeholder: no bind values in any span');
      check(q.every((s) => s.attrs['code.function'] === 'findProduct'), 'placeholder: code.* on the lookups');
    },
  },
  orm_lazy_n_plus_one: {
    services: ['catalog'],
    trace: (t) => {
      const orm = t.filter((s) => s.kind === 'CLIENT' && /^Sequelize /.test(s.name) && /FROM "products"/.test(statement(s) || ''));
      check(orm.length >= 10, `orm_lazy: ${orm.length} Sequelize product queries in a trace (>= 10 expected)`);
      check(orm.every((o) => t.some((s) => s.parent === o.id && dbSystem(s) === 'postgresql' && statement(s) === statement(o))),
        'orm_lazy: each Sequelize span has the pg span of its statement as a child');
      check(new Set(orm.map(statement)).size === orm.length, 'orm_lazy: one statement per category (the ids are literals)');
    },
  },
  graphql_resolver_n_plus_one: {
    services: ['bookshop'],
    trace: (t) => {
      const q = lookups(t, /FROM authors WHERE id = \$1/, 12);
      const byId = new Map(t.map((s) => [s.id, s]));
      check(q.every((s) => /^graphql\.resolve books\.\d+\.author$/.test((byId.get(s.parent) || {}).name || '')), 'graphql: each lookup is under its graphql.resolve books.<i>.author span');
      check(maxInFlight(q) > 1, 'graphql: the lookups overlap (resolvers run concurrently)');
    },
  },
  graphql_dataloader: {
    services: ['bookshop'],
    trace: (t) => {
      const q = t.filter((s) => s.kind === 'CLIENT' && /FROM authors/.test(statement(s) || ''));
      check(q.length === 1 && /ANY\(\$1\)/.test(statement(q[0])), 'graphql_dataloader: one authors query, WHERE id = ANY($1)');
    },
  },
  routeless_n_plus_one: {
    services: ['orders'],
    trace: (t) => {
      lookups(t, /FROM products WHERE id = \$1/, 10);
      const server = t.find((s) => s.kind === 'SERVER');
      check(server && server.attrs['http.route'] === undefined && /^\/orders\/\d+\/lines$/.test(server.attrs['url.path'] || ''),
        'routeless: the server span has url.path /orders/<n>/lines and no http.route');
    },
  },
  delayed_link: {
    services: ['cart', 'pricing'],
    trace: (t, fmt) => {
      calls(t, fmt, 'cart', 'pricing');
      const client = t.find((s) => s.service === 'cart' && s.kind === 'CLIENT');
      const server = t.find((s) => s.service === 'pricing' && s.kind === 'SERVER');
      if (client && server) check((client.end - client.start) - (server.end - server.start) >= 150000000n, `${fmt}: >= 150 ms of the call outside the callee`);
    },
  },
  rabbitmq_publish: {
    services: ['fulfillment'],
    trace: (t) => {
      const p = t.filter((s) => s.kind === 'PRODUCER' && s.attrs['messaging.destination'] === 'shipments');
      check(p.length >= 8, `rabbitmq: ${p.length} publishes to shipments in a trace (>= 8 expected)`);
      check(maxInFlight(p) === 1, 'rabbitmq: one publish at a time (each confirm awaited)');
    },
  },
  cheap_n_plus_one: {
    services: ['backoffice'],
    trace: (t, fmt) => {
      const q = t.filter((s) => s.kind === 'CLIENT' && dbSystem(s) === 'postgresql' && !/connect/.test(s.name));
      check(q.length === 6, `${fmt}: ${q.length} queries in a trace (6 expected)`);
      if (fmt === 'otlp') check(q.every((s) => /FROM stores WHERE id = \$1/.test(statement(s))), 'cheap: 6 lookups by id');
    },
  },
  cheap_n_plus_one_fixed: {
    services: ['backoffice'],
    trace: (t, fmt) => {
      const q = t.filter((s) => s.kind === 'CLIENT' && dbSystem(s) === 'postgresql' && !/connect/.test(s.name));
      check(q.length === 1, `${fmt}: ${q.length} queries in a trace (1 expected)`);
      if (fmt === 'otlp') check(q.every((s) => /ANY\(\$1\)/.test(statement(s))), 'cheap_fixed: one ANY($1) query');
    },
  },
};

// The per-id lookups of a trace (OTLP): at least min, serial or not, distinct bind values where recorded.
function lookups(t, re, min) {
  const q = t.filter((s) => s.kind === 'CLIENT' && dbSystem(s) === 'postgresql' && re.test(statement(s) || ''));
  check(q.length >= min, `${q.length} lookups ${re} in a trace (>= ${min} expected)`);
  const values = q.map((s) => JSON.stringify(s.attrs['db.postgresql.values'])).filter((v) => v !== undefined);
  check(new Set(values).size === values.length, `distinct bind values of ${re}`);
  return q;
}

// The most spans open at once. Start times have millisecond resolution, end times not: a span
// counts as open from its start to 1 ms before its end.
function maxInFlight(spans) {
  const edges = spans.flatMap((s) => [[s.start, 1], [s.end - 1000000n > s.start ? s.end - 1000000n : s.start, -1]]).sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
  let open = 0, max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

function nPlusOne(t, fmt, withRoot) {
  const q = t.filter((s) => s.kind === 'CLIENT' && dbSystem(s) === 'postgresql' && !/connect/.test(s.name));
  check(q.length >= 6, `${fmt}: ${q.length} PostgreSQL query spans in a trace (>= 6 expected)`);
  check(t.some((s) => s.kind === 'SERVER') === withRoot, `${fmt}: the server span is ${withRoot ? 'missing' : 'present'}`);
  if (fmt === 'otlp') {
    const perId = q.filter((s) => /WHERE id = \$1/.test(statement(s) || ''));
    check(perId.length >= 5, `otlp: ${perId.length} per-id lookups (>= 5 expected)`);
    check(perId.every((s) => s.attrs['code.filepath'] && s.attrs['code.lineno'] > 0 && s.attrs['code.function']), 'otlp: code.* attributes on the lookups');
  }
  if (!withRoot) {
    const ids = new Set(t.map((s) => s.id));
    check(q.every((s) => s.parent && !ids.has(s.parent)), `${fmt}: the query spans' parent is missing from the export`);
  }
}

function externalCalls(t, fmt, n, remote) {
  const out = t.filter((s) => s.kind === 'CLIENT' && !dbSystem(s));
  check(out.length === n, `${fmt}: ${out.length} outgoing HTTP calls in a trace (${n} expected)`);
  if (fmt === 'zipkin') check(out.every((s) => s.remote === remote), `zipkin: calls name ${remote} as the remote service`);
  check(!t.some((s) => s.kind === 'SERVER' && s.service !== 'storefront'), `${fmt}: the third party is not instrumented`);
}

function calls(t, fmt, caller, callee) {
  const client = t.find((s) => s.service === caller && s.kind === 'CLIENT');
  const server = t.find((s) => s.service === callee && s.kind === 'SERVER');
  check(client && server, `${fmt}: a ${caller} client span and a ${callee} server span in each trace`);
  if (!client || !server) return;
  if (fmt === 'zipkin') {
    check(server.id === client.id && server.shared && !client.shared, `zipkin: the ${callee} server half shares the ${caller} client's span id`);
    check(server.parent === client.parent, 'zipkin: both halves name the same parent');
  } else {
    check(server.parent === client.id, `otlp: the ${callee} server span is the child of the ${caller} client span`);
  }
}

function main() {
  const [dir, ...scenarios] = process.argv.slice(2);
  if (!dir || scenarios.length === 0) {
    console.error('usage: check_capture.js DIR SCENARIO...');
    process.exit(2);
  }
  for (const name of scenarios) {
    const expect = EXPECT[name];
    if (!expect) { failures.push(`unknown scenario ${name}`); continue; }
    for (const [fmt, file, read] of [['otlp', `${name}.otlp.jsonl`, readOtlp], ['zipkin', `${name}.zipkin.json`, readZipkin]]) {
      const p = path.join(dir, file);
      if (!fs.existsSync(p)) {
        check(fmt === 'zipkin' && SCENARIOS[name] && SCENARIOS[name].zipkin === false, `${file} is missing`);
        continue;
      }
      const spans = read(p);
      const traces = byTrace(spans);
      check(traces.length >= 15, `${file}: ${traces.length} traces (>= 15 expected)`);
      for (const svc of expect.services) check(spans.some((s) => s.service === svc), `${file}: no span of service ${svc}`);
      const before = failures.length;
      for (const t of traces) {
        expect.trace(t, fmt);
        if (failures.length > before) { failures.push(`  (in ${file}, trace ${t[0].trace})`); break; }
      }
      console.log(`check_capture: ${file}: ${spans.length} spans, ${traces.length} traces${failures.length > before ? ': FAILED' : ': ok'}`);
    }
  }
  for (const f of failures) console.error(`check_capture: ${f}`);
  process.exit(failures.length ? 1 : 0);
}

main();
