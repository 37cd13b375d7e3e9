// Prints one trace of a capture as an indented tree (start offset and duration in µs, service,
// kind, name; orphans marked), to look at a scenario's shape:
//   node show_trace.js captures/callee_cpu_bound.zipkin.json [TRACE_INDEX]
'use strict';
const fs = require('node:fs');

const KIND = { 1: 'INTERNAL', 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };

function read(file) {
  const spans = [];
  if (file.endsWith('.jsonl')) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      for (const rs of JSON.parse(line).resourceSpans || []) {
        const svc = (rs.resource.attributes.find((a) => a.key === 'service.name') || { value: {} }).value.stringValue;
        for (const ss of rs.scopeSpans || []) {
          for (const s of ss.spans || []) {
            spans.push({
              svc, id: s.spanId, parent: s.parentSpanId || '', trace: s.traceId, name: s.name, kind: KIND[s.kind],
              start: Number(BigInt(s.startTimeUnixNano) / 1000n),
              dur: Number((BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1000n),
            });
          }
        }
      }
    }
    return spans;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')).map((s) => ({
    svc: s.localEndpoint && s.localEndpoint.serviceName, id: s.id, shared: s.shared, parent: s.parentId || '',
    trace: s.traceId, kind: s.kind, start: s.timestamp, dur: s.duration,
    name: s.name + (s.remoteEndpoint ? ` -> ${s.remoteEndpoint.serviceName || ''}:${s.remoteEndpoint.port || ''}` : ''),
  }));
}

function main() {
  const [file, index = '0'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: show_trace.js CAPTURE [TRACE_INDEX]');
    process.exit(2);
  }
  const spans = read(file);
  const traces = [...new Set(spans.map((s) => s.trace))];
  const trace = traces[Number(index)];
  console.log(`${spans.length} spans in ${traces.length} traces; trace ${index}: ${trace}`);
  const own = spans.filter((s) => s.trace === trace).sort((a, b) => a.start - b.start);
  const t0 = own[0].start;
  // A shared Zipkin server half is a child of its client half (same id).
  const parentOf = (s) => (s.shared ? `${s.id}:client` : s.parent);
  const byKey = new Map(own.map((s) => [s.shared ? `${s.id}:shared` : s.kind === 'CLIENT' ? `${s.id}:client` : s.id, s]));
  const find = (id) => byKey.get(id) || byKey.get(`${id}:shared`) || byKey.get(`${id}:client`);
  for (const s of own) {
    let depth = 0;
    let p = parentOf(s);
    while (p && find(p) && depth < 30) {
      depth++;
      p = parentOf(find(p));
    }
    const orphan = p && !find(p) ? '  (parent missing)' : '';
    console.log(`${String(s.start - t0).padStart(9)} ${String(s.dur).padStart(9)}  ${s.svc} ${s.kind}${s.shared ? ' shared' : ''} ${'  '.repeat(depth)}${s.name}${orphan}`);
  }
}

main();
