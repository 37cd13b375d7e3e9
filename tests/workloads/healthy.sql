-- pgbench: the same shop, done right. Primary-key lookups and an indexed list query.
\set cid random(1, 20000)
\set pid random(1, 5000)
\set oid random(1, 200000)
\set cat random(1, 50)
SELECT id, email, name FROM customers WHERE id = :cid;
SELECT id, name, price_cents, stock FROM products WHERE id = :pid;
SELECT id, status, total_cents FROM orders WHERE id = :oid;
SELECT id, name, price_cents FROM products WHERE category_id = :cat ORDER BY id LIMIT 20;
