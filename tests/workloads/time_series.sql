-- pgbench: an event log. New events are appended, the last two hours are read by time, and old
-- events are purged by time, on the large table (events) and its small twin (events_small).
\set kind random(1, 20)
\set purge random(1, 50)
INSERT INTO events (created_at, kind, payload) VALUES (now(), :kind, 'event');
INSERT INTO events_small (created_at, kind, payload) VALUES (now(), :kind, 'event');
SELECT id, kind FROM events WHERE created_at >= now() - interval '2 hours';
SELECT id, kind FROM events_small WHERE created_at >= now() - interval '2 hours';
\if :purge = 1
DELETE FROM events WHERE created_at < now() - interval '60 days';
DELETE FROM events_small WHERE created_at < now() - interval '60 days';
\endif
