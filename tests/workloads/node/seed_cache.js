// Fills the cache the storefront reads (no tracing: this is set-up, not part of a scenario):
// product:<id> for the 5,000 products of the shop schema, cart:<n> lists of 12 product ids.
'use strict';
const Redis = require('ioredis');

async function main() {
  const redis = new Redis(process.env.REDIS_URL);
  const pipeline = redis.pipeline();
  for (let id = 1; id <= 5000; id++) {
    pipeline.set(`product:${id}`, JSON.stringify({ id, name: `Product ${id}`, price_cents: 100 + (id * 37) % 10000 }));
  }
  for (let cart = 1; cart <= 500; cart++) {
    const ids = Array.from({ length: 12 }, (_, i) => 1 + ((cart * 97 + i * 389) % 5000));
    pipeline.set(`cart:${cart}`, JSON.stringify(ids));
  }
  await pipeline.exec();
  await redis.quit();
}
main().catch((err) => {
  console.error(`seed_cache: ${err.message}`);
  process.exit(1);
});
