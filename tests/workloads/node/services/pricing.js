// The pricing service (express, instrumented): prices a cart in memory, no I/O, well under a
// millisecond. delayed_link: the cart service reaches it through a slow link (link_proxy.js).
'use strict';
const express = require('express');
const tracing = require('../lib/tracing');
const { listen } = require('../lib/service');

const app = express();
tracing.instrument(app);
app.get('/quotes/:cart', (req, res) => {
  const cart = Number(req.params.cart);
  const lines = Array.from({ length: 12 }, (_, i) => ({ sku: 1 + ((cart * 97 + i * 389) % 5000), quantity: 1 + (i % 3) }));
  const total = lines.reduce((sum, l) => sum + l.quantity * (100 + (l.sku * 37) % 10000), 0);
  res.json({ cart, lines: lines.length, total_cents: total });
});
listen(app);
