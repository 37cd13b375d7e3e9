// Runs an express app on a loopback port chosen by the system and tells the parent (capture.js)
// which, over the IPC channel of child_process.fork (or on stdout when run by hand).
'use strict';
const tracing = require('./tracing');

function listen(app) {
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    if (process.send) process.send({ ready: tracing.serviceName, port });
    else console.log(`${tracing.serviceName} listening on http://127.0.0.1:${port}`);
  });
  const stop = async () => {
    server.close();
    await tracing.shutdown();
    // With OpenTelemetry, lib/otel.js flushes and exits on the same signal.
    if (process.env.TRACER === 'zipkin') process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

// Wraps an async route handler: errors become a 500 with the message.
function route(handler) {
  return (req, res) => {
    handler(req, res).catch((err) => res.status(500).json({ error: err.message }));
  };
}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

module.exports = { listen, route, required };
