// The shop's storefront: the entry service of most scenarios. Each endpoint exhibits one pattern.
'use strict';
const express = require('express');
const tracing = require('../lib/tracing');
const { listen, route, required } = require('../lib/service');

const { Pool } = tracing.pg();
const db = new Pool({ connectionString: required('PG_APP_DSN'), max: 10 });
const cache = tracing.redis(required('REDIS_URL'));
const carrierFetch = tracing.fetchFor('carrier-api');
const paymentFetch = tracing.fetchFor('payment-provider');
const recommendationsFetch = tracing.fetchFor('recommendations');
const reportingFetch = tracing.fetchFor('reporting');
const CARRIERS = ['dhl', 'ups', 'fedex', 'usps', 'dpd', 'gls', 'tnt', 'aramex', 'purolator', 'royalmail'];

const app = express();
tracing.instrument(app);

// Runs a request's queries on one pooled connection (a request-scoped client, as ORMs do within
// a unit of work).
async function withClient(work) {
  const client = await db.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

// orm_n_plus_one: the ORM way of listing a category: one query for the ids, then one lookup per
// product, one after another (what a lazy-loaded association does).
async function findProduct(client, id) {
  const { rows } = await client.query('SELECT id, name, price_cents, stock FROM products WHERE id = $1', [id]);
  return rows[0];
}
async function listCategory(req, res) {
  const products = await withClient(async (client) => {
    const { rows } = await client.query('SELECT id FROM products WHERE category_id = $1 ORDER BY id LIMIT 12', [
      Number(req.params.category),
    ]);
    const found = [];
    for (const row of rows) found.push(await findProduct(client, row.id));
    return found;
  });
  res.json(products);
}
app.get('/categories/:category/products', route(listCategory));
// n_plus_one_orphan: the same handler under a route whose entry spans get lost before export.
app.get('/catalog/:category', route(listCategory));

// redis_get_per_id: the cart holds product ids; each product is read from the cache by its own GET.
async function showCart(req, res) {
  const ids = JSON.parse((await cache.get(`cart:${Number(req.params.cart)}`)) || '[]');
  const items = [];
  for (const id of ids) items.push(JSON.parse(await cache.get(`product:${id}`)));
  res.json(items);
}
app.get('/carts/:cart', route(showCart));

// repeated_identical: a setting read again for every line of the invoice, with the same key: the
// same statement with the same parameter, many times in one request (memoize it).
async function setting(client, key) {
  const { rows } = await client.query('SELECT value FROM app_settings WHERE key = $1', [key]);
  return rows[0].value;
}
async function invoice(req, res) {
  const out = await withClient(async (client) => {
    const { rows: lines } = await client.query(
      'SELECT id, product_id, quantity, unit_price_cents FROM invoice_lines WHERE invoice_id = $1 ORDER BY id',
      [Number(req.params.invoice)]
    );
    const priced = [];
    for (const line of lines) priced.push({ ...line, currency: await setting(client, 'display_currency') });
    return priced;
  });
  res.json(out);
}
app.get('/invoices/:invoice', route(invoice));

// fanout_serial / fanout_concurrent: shipping quotes from ten carriers (an uninstrumented
// third-party API), one after another, or through a worker pool of three.
async function quote(carrier, weight) {
  const res = await carrierFetch(`${required('CARRIER_API')}/rates/${carrier}?weight=${weight}&delay_ms=40`);
  return res.json();
}
app.get('/shipping/quotes', route(async (req, res) => {
  const quotes = [];
  for (const carrier of CARRIERS) quotes.push(await quote(carrier, Number(req.query.weight || 1)));
  res.json(quotes);
}));
async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
app.get('/shipping/quotes-pooled', route(async (req, res) => {
  res.json(await mapLimit(CARRIERS, 3, (carrier) => quote(carrier, Number(req.query.weight || 1))));
}));

// slow_third_party: one call to the payment provider, which answers slowly.
app.post('/checkout/:order/pay', route(async (req, res) => {
  const r = await paymentFetch(`${required('PAYMENT_API')}/charges?order=${Number(req.params.order)}&delay_ms=300`, {
    method: 'POST',
  });
  res.json(await r.json());
}));

// callee_cpu_bound: the product page asks the recommendations service (CPU-bound).
app.get('/products/:id/recommendations', route(async (req, res) => {
  const r = await recommendationsFetch(`${required('RECOMMENDATIONS_URL')}/similar/${Number(req.params.id)}`);
  res.status(r.status).json(await r.json());
}));

// callee_db_wait: the account page asks the reporting service (waits on PostgreSQL).
app.get('/account/:customer/summary', route(async (req, res) => {
  const r = await reportingFetch(`${required('REPORTING_URL')}/customers/${Number(req.params.customer)}/order-stats`);
  res.status(r.status).json(await r.json());
}));

// slow_scan: a customer's order statistics straight from PostgreSQL: orders.customer_id has no index
// (the shop schema), so each call scans the 1 M orders (~100-300 ms), all of it the database's.
app.get('/customers/:customer/order-stats', route(async (req, res) => {
  const { rows } = await withClient((client) =>
    client.query(
      'SELECT status, count(*) AS orders, sum(total_cents) AS total_cents FROM orders WHERE customer_id = $1 GROUP BY status',
      [Number(req.params.customer)]
    )
  );
  res.json(rows);
}));

// healthy (and cpu_quota): a product page, one primary-key lookup (well under a millisecond).
app.get('/products/:id', route(async (req, res) => {
  const { rows } = await withClient((client) =>
    client.query('SELECT id, name, price_cents, stock, category_id FROM products WHERE id = $1', [Number(req.params.id)])
  );
  res.json(rows[0] || null);
}));

listen(app);
