-- pgbench through PgBouncer: fast statements, but the application keeps the transaction open
-- while it does 30 ms of its own work (an HTTP call, rendering) between them.
\set cid random(1, 20000)
\set pid random(1, 5000)
BEGIN;
SELECT id, email FROM customers WHERE id = :cid;
\sleep 30 ms
SELECT id, price_cents FROM products WHERE id = :pid;
COMMIT;
