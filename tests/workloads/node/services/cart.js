// The cart service (express, instrumented): delayed_link's entry. GET /carts/:cart/total asks the
// pricing service (PRICING_URL: the slow link in front of it) for the cart's price, once.
'use strict';
const express = require('express');
const tracing = require('../lib/tracing');
const { listen, route, required } = require('../lib/service');

const pricingFetch = tracing.fetchFor('pricing');

const app = express();
tracing.instrument(app);
app.get('/carts/:cart/total', route(async (req, res) => {
  const r = await pricingFetch(`${required('PRICING_URL')}/quotes/${Number(req.params.cart)}`);
  res.status(r.status).json(await r.json());
}));
listen(app);
