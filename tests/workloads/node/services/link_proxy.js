// A slow network link between two services: a TCP proxy on loopback (uninstrumented, it is "the
// network") that forwards to UPSTREAM_URL's host and port and holds every chunk coming back from
// the upstream for LINK_DELAY_MS (default 200) before passing it on; the other direction is not
// delayed. Chunks keep their order (one delay for all). delayed_link puts it between cart and pricing.
'use strict';
const net = require('node:net');

const upstream = new URL(process.env.UPSTREAM_URL);
const delayMs = Number(process.env.LINK_DELAY_MS || 200);
const sockets = new Set();

const server = net.createServer((client) => {
  const target = net.connect(Number(upstream.port), upstream.hostname);
  sockets.add(client);
  sockets.add(target);
  client.on('data', (chunk) => target.write(chunk));
  target.on('data', (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
  // An end is passed on after the data before it.
  client.on('end', () => target.end());
  target.on('end', () => setTimeout(() => client.end(), delayMs));
  for (const s of [client, target]) {
    s.on('error', () => { client.destroy(); target.destroy(); });
    s.on('close', () => sockets.delete(s));
  }
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) process.send({ ready: 'link-proxy', port });
  else console.log(`link proxy on 127.0.0.1:${port} -> ${upstream.host}, ${delayMs} ms back`);
});
process.on('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
