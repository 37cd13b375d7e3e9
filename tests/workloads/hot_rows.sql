-- pgbench: checkout credits one of three shared accounts, then does slow work (50 ms) before
-- committing. Everyone queues on the same rows.
\set id random(1, 3)
BEGIN;
UPDATE accounts SET balance_cents = balance_cents + 1 WHERE id = :id;
SELECT pg_sleep(0.05);
COMMIT;
