// The fulfillment service (express, amqplib on RabbitMQ): rabbitmq_publish. Shipping an order
// publishes one message per line (10) to the topic exchange "shipments" on a confirm channel,
// waiting for each message's broker confirm before the next (persistent messages, routed to a
// durable queue). OpenTelemetry only (@opentelemetry/instrumentation-amqplib).
'use strict';
const express = require('express');
const amqp = require('amqplib');
const { listen, route, required } = require('../lib/service');

const EXCHANGE = 'shipments';
let channel;

async function connect() {
  const connection = await amqp.connect(required('AMQP_URL'));
  channel = await connection.createConfirmChannel();
  await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
  await channel.assertQueue('shipments.warehouse', { durable: true });
  await channel.bindQueue('shipments.warehouse', EXCHANGE, 'shipment.#');
}

// Resolves when the broker confirmed the message.
function publishConfirmed(routingKey, message) {
  return new Promise((resolve, reject) => {
    channel.publish(EXCHANGE, routingKey, Buffer.from(JSON.stringify(message)),
      { persistent: true, contentType: 'application/json' }, (err) => (err ? reject(err) : resolve()));
  });
}

const app = express();
app.post('/orders/:order/ship', route(async (req, res) => {
  const order = Number(req.params.order);
  const lines = Array.from({ length: 10 }, (_, i) => ({ order, line: i + 1, product_id: 1 + ((order * 31 + i * 389) % 5000) }));
  for (const line of lines) await publishConfirmed('shipment.line', line);
  res.json({ order, published: lines.length });
}));

connect().then(() => listen(app), (err) => {
  console.error(`fulfillment: ${err.message}`);
  process.exit(1);
});
