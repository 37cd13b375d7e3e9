// The shop's back office (express, pg): endpoints whose one pattern is an N+1 seen another way.
//   flat_parent_n_plus_one   GET /admin/orders           the lookups beside (not under) an action span
//   placeholder_n_plus_one   GET /invoices/:invoice/lines the lookups without bind values (PG_BIND_VALUES=off)
//   cheap_n_plus_one         GET /stores/hours           6 lookups of a 20-row table (~1 ms each);
//                                                        STORES_BATCHED=1: one ANY($1) query (the fix)
'use strict';
const express = require('express');
const { trace } = require('@opentelemetry/api');
const tracing = require('../lib/tracing');
const { listen, route, required } = require('../lib/service');

const { Pool } = tracing.pg();
const db = new Pool({ connectionString: required('PG_APP_DSN'), max: 10 });
const tracer = trace.getTracer('backoffice');

const app = express();
tracing.instrument(app);

// A request's queries on one pooled connection.
async function withClient(work) {
  const client = await db.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

// flat_parent_n_plus_one: the recent orders, then each order's customer, one lookup per order. The
// action is recorded the way Rails and Django APM agents record a controller action: a
// "process_action" span started and ended around the work, but never made the active span (no
// context.with / startActiveSpan), so the query spans are children of the request handler span,
// siblings of process_action, which covers them in time.
async function findCustomer(client, id) {
  const { rows } = await client.query('SELECT id, email, name FROM customers WHERE id = $1', [id]);
  return rows[0];
}
app.get('/admin/orders', route(async (req, res) => {
  const action = tracer.startSpan('process_action');
  try {
    const orders = await withClient(async (client) => {
      const { rows } = await client.query(
        'SELECT id, customer_id, status, total_cents FROM orders ORDER BY id DESC LIMIT 12 OFFSET $1',
        [12 * Number(req.query.page || 0)]
      );
      for (const order of rows) order.customer = await findCustomer(client, order.customer_id);
      return rows;
    });
    res.json(orders);
  } finally {
    action.end();
  }
}));

// placeholder_n_plus_one: an invoice's lines, then each line's product, one lookup per line (12 to
// 15, distinct products). Run with PG_BIND_VALUES=off: the spans hold the statement with its $1
// placeholder and no values (the pg instrumentation's default, without enhancedDatabaseReporting).
async function findProduct(client, id) {
  const { rows } = await client.query('SELECT name, price_cents FROM products WHERE id = $1', [id]);
  return rows[0];
}
app.get('/invoices/:invoice/lines', route(async (req, res) => {
  const lines = await withClient(async (client) => {
    const { rows } = await client.query(
      'SELECT id, product_id, quantity FROM invoice_lines WHERE invoice_id = $1 ORDER BY id',
      [Number(req.params.invoice)]
    );
    for (const line of rows) line.product = await findProduct(client, line.product_id);
    return rows;
  });
  res.json(lines);
}));

// cheap_n_plus_one / cheap_n_plus_one_fixed: the opening hours of the customer's 6 favourite stores
// (ids in the query string), from a 20-row table: one lookup per store (each ~1 ms), or with
// STORES_BATCHED=1 the fix, one query for all of them.
async function storesOneByOne(client, ids) {
  const stores = [];
  for (const id of ids) {
    const { rows } = await client.query('SELECT id, name, city, opens, closes FROM stores WHERE id = $1', [id]);
    stores.push(rows[0]);
  }
  return stores;
}
async function storesBatched(client, ids) {
  const { rows } = await client.query('SELECT id, name, city, opens, closes FROM stores WHERE id = ANY($1) ORDER BY id', [ids]);
  return rows;
}
const findStores = process.env.STORES_BATCHED === '1' ? storesBatched : storesOneByOne;
app.get('/stores/hours', route(async (req, res) => {
  const ids = String(req.query.ids || '').split(',').map(Number).filter((id) => id > 0).slice(0, 20);
  res.json(await withClient((client) => findStores(client, ids)));
}));

listen(app);
