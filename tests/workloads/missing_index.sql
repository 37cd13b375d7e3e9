-- pgbench: the order history page. orders.customer_id is not indexed, so every call scans the table.
\set cid random(1, 20000)
SELECT id, email, name FROM customers WHERE id = :cid;
SELECT id, status, total_cents, created_at FROM orders WHERE customer_id = :cid;
