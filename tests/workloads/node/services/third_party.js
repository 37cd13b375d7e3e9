// A third-party API (carrier rates, payment provider): plain node http, no instrumentation, answers
// after ?delay_ms= milliseconds.
'use strict';
const http = require('node:http');

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://stub');
  const delay = Math.min(Number(url.searchParams.get('delay_ms') || 0), 10000);
  req.resume();
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: url.pathname, delay_ms: delay, amount_cents: 1000 + (url.pathname.length * 37) % 900 }));
  }, delay);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) process.send({ ready: 'third-party', port });
  else console.log(`third-party stub on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
