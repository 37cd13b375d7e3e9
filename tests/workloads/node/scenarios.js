// The scenarios: which services run (dependencies first, the entry service last) and the requests
// the driver sends to the entry service. Each exhibits exactly one pattern (see README.md).
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
};

module.exports = { SCENARIOS };
