-- pgbench through PgBouncer: a report query of a few milliseconds (an indexed range of 20,000
-- orders). Many clients share a small pool.
\set a random(1, 900000)
SELECT count(*), sum(total_cents) FROM orders WHERE id BETWEEN :a AND :a + 20000;
