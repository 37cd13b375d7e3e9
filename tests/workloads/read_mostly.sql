-- pgbench: a read-mostly API. The price list (plans) is never written; one rate (rates) is read per
-- request and bumped by one request in ten, so it is written, just less often than read.
\set plan random(1, 200)
\set rate random(1, 200)
\set bump random(1, 10)
SELECT id, name, price_cents FROM plans ORDER BY price_cents;
SELECT name, price_cents FROM plans WHERE id = :plan;
SELECT value FROM rates WHERE id = :rate;
\if :bump = 1
UPDATE rates SET value = value + 1 WHERE id = :rate;
\endif
