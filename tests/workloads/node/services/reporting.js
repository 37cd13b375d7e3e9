// The reporting service: aggregates over the orders table. orders.customer_id has no index (the
// shop schema), so a customer's statistics are a sequential scan: the time is PostgreSQL's.
'use strict';
const express = require('express');
const tracing = require('../lib/tracing');
const { listen, route, required } = require('../lib/service');

const { Pool } = tracing.pg();
const db = new Pool({ connectionString: required('PG_APP_DSN'), max: 10 });

// One pooled connection per statement, checked out by the caller (so the span's code location is
// the handler's line).
async function query(text, values) {
  const client = await db.connect();
  try {
    return await client.query(text, values);
  } finally {
    client.release();
  }
}

const app = express();
tracing.instrument(app);

// callee_db_wait
app.get('/customers/:customer/order-stats', route(async (req, res) => {
  const { rows } = await query(
    'SELECT status, count(*) AS orders, sum(total_cents) AS total_cents FROM orders WHERE customer_id = $1 GROUP BY status',
    [Number(req.params.customer)]
  );
  res.json(rows);
}));

// proxy_timeout: a nightly-style export that runs far past the gateway's route timeout; the
// statement keeps running after the gateway gave up (nobody cancels it).
app.get('/exports/orders', route(async (req, res) => {
  const { rows } = await query(
    "SELECT status, count(*) AS orders FROM orders, (SELECT pg_sleep($1)) AS export_window WHERE created_at > now() - interval '1 hour' GROUP BY status",
    [Number(process.env.EXPORT_SECONDS || 1.5)]
  );
  res.json(rows);
}));

listen(app);
