// The orders service: koa with @koa/router, instrumented by lib/otel.js, which has no koa
// instrumentation (a service set up with the http instrumentation only, as happens): the server
// spans carry url.path (/orders/3002/lines) and no http.route. routeless_n_plus_one: an order's
// lines, then each line's product, one lookup per line (10 to 15, distinct products).
'use strict';
const Koa = require('koa');
const Router = require('@koa/router');
const { Pool } = require('pg');
const { listen, required } = require('../lib/service');

const db = new Pool({ connectionString: required('PG_APP_DSN'), max: 10 });

async function findProduct(client, id) {
  const { rows } = await client.query('SELECT id, name, stock FROM products WHERE id = $1', [id]);
  return rows[0];
}

const router = new Router();
router.get('/orders/:order/lines', async (ctx) => {
  const client = await db.connect();
  try {
    const { rows } = await client.query(
      'SELECT id, product_id, quantity, unit_price_cents FROM invoice_lines WHERE invoice_id = $1 ORDER BY id',
      [Number(ctx.params.order)]
    );
    for (const line of rows) line.product = await findProduct(client, line.product_id);
    ctx.body = rows;
  } finally {
    client.release();
  }
});

const app = new Koa();
app.use(router.routes());
listen(app);
