-- pgbench: a write-heavy workload. Every rate read is followed by writes to the same rows.
\set rate random(1, 200)
BEGIN;
SELECT value FROM rates WHERE id = :rate;
UPDATE rates SET value = value + 1 WHERE id = :rate;
UPDATE rates SET value = value - 1 WHERE id = 201 - :rate;
INSERT INTO events_small (created_at, kind, payload) VALUES (now() - interval '100 days', :rate, 'log');
DELETE FROM events_small WHERE created_at < now() - interval '90 days';
END;
