-- pgbench: a light API tenant reading prices (run with PGAPPNAME per client, rate-limited -R).
\set plan random(1, 200)
\set cat random(1, 50)
SELECT name, price_cents FROM plans WHERE id = :plan;
SELECT count(*) FROM items WHERE category = :cat;
