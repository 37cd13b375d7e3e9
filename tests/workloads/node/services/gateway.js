// The API gateway: forwards /api/* to the reporting service with a route timeout (1 s), answering
// 504 when the upstream has not answered by then. The upstream request is not cancelled.
'use strict';
const express = require('express');
const tracing = require('../lib/tracing');
const { listen, route, required } = require('../lib/service');

const TIMEOUT_MS = Number(process.env.ROUTE_TIMEOUT_MS || 1000);
const upstreamFetch = tracing.fetchFor('reporting');

const app = express();
tracing.instrument(app);
app.get('/api/reports/orders-export', route(async (req, res) => {
  try {
    const r = await upstreamFetch(`${required('REPORTING_URL')}/exports/orders`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    res.status(r.status).json(await r.json());
  } catch (err) {
    if (err.name !== 'TimeoutError') throw err;
    res.status(504).json({ error: `upstream timed out after ${TIMEOUT_MS} ms` });
  }
}));
listen(app);
