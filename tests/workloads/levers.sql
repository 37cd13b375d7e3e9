-- The tables of the scaling-advice scenarios (tests/integration/test_advice_live.cpp, the demo):
-- a never-written price list (plans), a rate table written as often as it is read (rates), a
-- catalogue aggregated by category (items), a large time-ordered event log read and purged by time
-- (events, 60 days of rows) and its small twin (events_small).
SET client_min_messages = warning;
DROP TABLE IF EXISTS plans, rates, items, events, events_small CASCADE;

CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL);
INSERT INTO plans SELECT i, 'Plan ' || i, 100 * i FROM generate_series(1, 200) i;

CREATE TABLE rates (id int PRIMARY KEY, value bigint NOT NULL DEFAULT 0);
INSERT INTO rates SELECT i FROM generate_series(1, 200) i;

CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, price_cents int NOT NULL);
INSERT INTO items SELECT i, 1 + i % 50, 100 + (i * 37) % 10000 FROM generate_series(1, 100000) i;

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL,
  kind int NOT NULL,
  payload text NOT NULL
);
CREATE TABLE events_small (LIKE events INCLUDING ALL);
INSERT INTO events (created_at, kind, payload)
SELECT now() - make_interval(secs => i * 17), i % 20, 'event ' || i FROM generate_series(1, :events) i;
INSERT INTO events_small (created_at, kind, payload)
SELECT now() - make_interval(secs => i * 1200), i % 20, 'event ' || i FROM generate_series(1, 4000) i;
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE INDEX events_small_created_at_idx ON events_small (created_at);
VACUUM ANALYZE plans, rates, items, events, events_small;
