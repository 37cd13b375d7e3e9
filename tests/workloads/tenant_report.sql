-- pgbench: one tenant's reports aggregate the whole catalogue (run with PGAPPNAME per client).
\set cat random(1, 50)
SELECT category, count(*), sum(price_cents) FROM items WHERE category >= :cat GROUP BY category;
