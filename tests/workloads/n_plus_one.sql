-- pgbench: a category page the ORM way. One list query, then one lookup per listed product
-- (20 per transaction). Every statement uses an index: the cost is the round trips.
\set cat random(1, 50)
BEGIN;
SELECT id FROM products WHERE category_id = :cat ORDER BY id LIMIT 20;
\set p1 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p1;
\set p2 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p2;
\set p3 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p3;
\set p4 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p4;
\set p5 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p5;
\set p6 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p6;
\set p7 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p7;
\set p8 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p8;
\set p9 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p9;
\set p10 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p10;
\set p11 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p11;
\set p12 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p12;
\set p13 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p13;
\set p14 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p14;
\set p15 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p15;
\set p16 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p16;
\set p17 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p17;
\set p18 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p18;
\set p19 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p19;
\set p20 random(1, 5000)
SELECT id, name, price_cents, stock FROM products WHERE id = :p20;
COMMIT;
