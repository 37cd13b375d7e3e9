// The scenarios: which services run (dependencies first, the entry service last) and the requests
// the driver sends to the entry service. Each exhibits exactly one pattern (see README.md).
// Keys: services (started in order, the last is the entry), requests (how many), request(i)
// ({method, path, body}), concurrency, env (for every service of the scenario), expectStatus,
// settleMs, zipkin: false (no Zipkin capture), needs: 'rabbitmq' (capture.sh starts a broker),
// live: true (driven only by the live test, tests/tools/test_one_system.sh: not captured by default).
'use strict';

const SCENARIOS = {
  orm_n_plus_one: {
    services: ['storefront'],
    requests: 20,
    request: (i) => ({ path: `/categories/${1 + ((i * 7) % 50)}/products` }),
  },
  redis_get_per_id: {
    services: ['storefront'],
    requests: 25,
    request: (i) => ({ path: `/carts/${1 + i}` }),
  },
  repeated_identical: {
    services: ['storefront'],
    requests: 20,
    request: (i) => ({ path: `/invoices/${7 + i * 3}` }),
    zipkin: false, // zipkin-instrumentation-postgres records no statement: identical or not is unknowable
  },
  fanout_serial: {
    services: ['third_party', 'storefront'],
    requests: 20,
    request: (i) => ({ path: `/shipping/quotes?weight=${1 + (i % 5)}` }),
  },
  fanout_concurrent: {
    services: ['third_party', 'storefront'],
    requests: 20,
    request: (i) => ({ path: `/shipping/quotes-pooled?weight=${1 + (i % 5)}` }),
  },
  callee_cpu_bound: {
    services: ['recommendations', 'storefront'],
    requests: 20,
    request: (i) => ({ path: `/products/${1 + i * 11}/recommendations` }),
  },
  callee_db_wait: {
    services: ['reporting', 'storefront'],
    requests: 20,
    request: (i) => ({ path: `/account/${1 + i * 13}/summary` }),
  },
  slow_third_party: {
    services: ['third_party', 'storefront'],
    requests: 20,
    request: (i) => ({ method: 'POST', path: `/checkout/${1000 + i}/pay` }),
  },
  proxy_timeout: {
    services: ['reporting', 'gateway'],
    requests: 20,
    concurrency: 4,
    request: () => ({ path: '/api/reports/orders-export' }),
    expectStatus: [504],
    settleMs: 1500,
  },
  n_plus_one_orphan: {
    services: ['storefront'],
    requests: 20,
    request: (i) => ({ path: `/catalog/${1 + ((i * 7) % 50)}` }),
    env: { DROP_SPANS_ROUTE: '/catalog/:category' },
  },

  // flat_parent_n_plus_one (backoffice, GET /admin/orders): the 12 most recent orders of a page,
  // then 12 x SELECT ... FROM customers WHERE id = $1, serial, distinct ids. A "process_action"
  // span (started, never made active, as Rails/Django APM agents record an action) covers them in
  // time, but the query spans are children of the express request handler span, its siblings.
  flat_parent_n_plus_one: {
    services: ['backoffice'],
    requests: 20,
    request: (i) => ({ path: `/admin/orders?page=${i}` }),
    zipkin: false, // process_action is an OpenTelemetry API span: nothing of it in zipkin-js
  },
  // placeholder_n_plus_one (backoffice, GET /invoices/:invoice/lines): an invoice's lines, then
  // 12-15 x SELECT name, price_cents FROM products WHERE id = $1 (distinct ids), serial. The pg
  // instrumentation runs without enhancedDatabaseReporting: statements with $1 and no values.
  placeholder_n_plus_one: {
    services: ['backoffice'],
    requests: 20,
    request: (i) => ({ path: `/invoices/${1004 + 88 * i + (i % 4)}/lines` }), // 12-15 lines, all products distinct
    env: { PG_BIND_VALUES: 'off' },
    zipkin: false, // zipkin-instrumentation-postgres records no statement at all
  },
  // orm_lazy_n_plus_one (catalog, GET /categories): Sequelize lists 12 categories, then each
  // category's products through the lazy association (getProducts), one query per category,
  // serial. Sequelize spans (CLIENT, "Sequelize SELECT") over the pg driver's spans; Sequelize
  // writes the ids into the SQL as literals (no bind parameters).
  orm_lazy_n_plus_one: {
    services: ['catalog'],
    requests: 20,
    request: (i) => ({ path: `/categories?offset=${(i * 7) % 39}` }),
    zipkin: false, // zipkin-js has no Sequelize instrumentation
  },
  // graphql_resolver_n_plus_one (bookshop, POST /graphql): a page of 12 books with their author;
  // the Book.author resolver queries SELECT ... FROM authors WHERE id = $1 per book, the 12
  // concurrently (graphql-js resolves list items in parallel; pool of 10 connections).
  graphql_resolver_n_plus_one: {
    services: ['bookshop'],
    requests: 20,
    request: (i) => ({ method: 'POST', path: '/graphql', body: booksQuery(i) }),
    zipkin: false, // zipkin-js has no GraphQL instrumentation
  },
  // graphql_dataloader: the same query, the resolver through a request-scoped DataLoader: one
  // SELECT ... FROM authors WHERE id = ANY($1) per request (the fix of the above).
  graphql_dataloader: {
    services: ['bookshop'],
    requests: 20,
    request: (i) => ({ method: 'POST', path: '/graphql', body: booksQuery(i) }),
    env: { AUTHOR_LOADER: 'dataloader' },
    zipkin: false,
  },
  // routeless_n_plus_one (orders, koa without instrumentation of its own: no http.route, only
  // url.path /orders/<n>/lines): an order's lines, then 10-15 x SELECT id, name, stock FROM
  // products WHERE id = $1, serial, distinct ids.
  routeless_n_plus_one: {
    services: ['orders'],
    requests: 20,
    request: (i) => ({ path: `/orders/${3002 + 56 * i + (i % 6)}/lines` }), // 10-15 lines, all products distinct
    zipkin: false,
  },
  // delayed_link (cart -> link_proxy -> pricing): one call per request from cart to the
  // instrumented pricing service, which answers in well under a millisecond; the TCP proxy
  // between them (uninstrumented: the network) holds each chunk of the answer for 200 ms.
  delayed_link: {
    services: ['pricing', 'link_proxy', 'cart'],
    requests: 20,
    request: (i) => ({ path: `/carts/${1 + i}/total` }),
    env: { LINK_DELAY_MS: '200' },
  },
  // rabbitmq_publish (fulfillment, POST /orders/:order/ship): 10 messages per request published
  // to the exchange "shipments" (routing key shipment.line) on a confirm channel, each confirm
  // awaited before the next publish. Needs RabbitMQ (capture.sh starts a broker of its own).
  rabbitmq_publish: {
    services: ['fulfillment'],
    requests: 20,
    request: (i) => ({ method: 'POST', path: `/orders/${5001 + i}/ship` }),
    needs: 'rabbitmq',
    zipkin: false, // zipkin-js has no amqplib instrumentation
  },
  // cheap_n_plus_one (backoffice, GET /stores/hours?ids=...): 6 x SELECT ... FROM stores WHERE
  // id = $1 on a 20-row table, serial, distinct ids, ~1 ms each: an N+1 that costs little.
  cheap_n_plus_one: {
    services: ['backoffice'],
    requests: 20,
    request: (i) => ({ path: `/stores/hours?ids=${favouriteStores(i)}` }),
  },
  // cheap_n_plus_one_fixed: the same requests, the fix: one SELECT ... WHERE id = ANY($1) ORDER BY
  // id (the baseline of the above: same service, route and ids).
  cheap_n_plus_one_fixed: {
    services: ['backoffice'],
    requests: 20,
    request: (i) => ({ path: `/stores/hours?ids=${favouriteStores(i)}` }),
    env: { STORES_BATCHED: '1' },
  },
  // slow_scan (storefront, GET /customers/:customer/order-stats): one statement per request that
  // scans the 1 M orders (no index on customer_id), ~100-300 ms, from one client. Live only
  // (tests/tools/test_one_system.sh): no committed capture.
  slow_scan: {
    services: ['storefront'],
    requests: 20,
    request: (i) => ({ path: `/customers/${1 + i * 17}/order-stats` }),
    live: true,
  },
  // healthy (storefront, GET /products/:id): one primary-key lookup per request: nothing worth
  // reporting. Driven harder while the storefront runs under a CPU quota, the cpu_quota case of
  // test_one_system.sh: a throttled process whose database answers in well under a millisecond.
  healthy: {
    services: ['storefront'],
    requests: 20,
    request: (i) => ({ path: `/products/${1 + ((i * 37) % 5000)}` }),
    live: true,
  },
};

// A page of 12 books with their authors (12 distinct authors: books.author_id = 1 + 37 id % 500).
function booksQuery(i) {
  return {
    query: 'query BooksPage($first: Int!, $offset: Int) { books(first: $first, offset: $offset) { id title published author { id name country } } }',
    variables: { first: 12, offset: 12 * i },
    operationName: 'BooksPage',
  };
}

// 6 distinct store ids out of 20.
function favouriteStores(i) {
  return Array.from({ length: 6 }, (_, k) => 1 + ((i + 3 * k) % 20)).join(',');
}

module.exports = { SCENARIOS };
