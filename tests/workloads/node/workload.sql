-- Tables the Node.js workloads need beside the shop schema (tests/workloads/shop.sql, loaded first).
-- invoice_lines: 20,000 invoices of 8 to 15 lines, indexed by invoice (a per-invoice read is one
-- index range scan); app_settings: the handful of settings an application reads by key;
-- authors and books: the bookshop's catalogue (GraphQL scenarios: a page of 12 books has 12
-- different authors); stores: a 20-row table (the cheap N+1 of cheap_n_plus_one).
SET client_min_messages = warning;
DROP TABLE IF EXISTS invoice_lines, app_settings, books, authors, stores;

CREATE TABLE app_settings (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO app_settings VALUES ('display_currency', 'EUR'), ('tax_region', 'EU'), ('free_shipping_cents', '5000'),
  ('support_email', 'support@example.com'), ('checkout_enabled', 'true');

CREATE TABLE invoice_lines (
  id bigserial PRIMARY KEY,
  invoice_id int NOT NULL,
  product_id bigint NOT NULL REFERENCES products (id),
  quantity int NOT NULL,
  unit_price_cents int NOT NULL
);
INSERT INTO invoice_lines (invoice_id, product_id, quantity, unit_price_cents)
SELECT inv, 1 + (hashint4(inv * 31 + line) & 2147483647) % 5000, 1 + line % 3, 100 + (inv * line * 37) % 10000
FROM generate_series(1, 20000) inv, generate_series(1, 15) line
WHERE line <= 8 + inv % 8;
CREATE INDEX invoice_lines_invoice_id_idx ON invoice_lines (invoice_id);

CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
INSERT INTO authors SELECT i, 'Author ' || i, (ARRAY['FR', 'DE', 'IT', 'ES', 'NL'])[1 + i % 5] FROM generate_series(1, 500) i;
CREATE TABLE books (id int PRIMARY KEY, title text NOT NULL, author_id int NOT NULL REFERENCES authors (id), published int NOT NULL);
INSERT INTO books SELECT i, 'Book ' || i, 1 + (i * 37) % 500, 1950 + i % 70 FROM generate_series(1, 5000) i;
CREATE INDEX books_author_id_idx ON books (author_id);

CREATE TABLE stores (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL, opens time NOT NULL, closes time NOT NULL);
INSERT INTO stores SELECT i, 'Store ' || i, (ARRAY['Lyon', 'Porto', 'Gent', 'Graz'])[1 + i % 4], '09:00', time '18:00' + make_interval(mins => 30 * (i % 4))
FROM generate_series(1, 20) i;
VACUUM ANALYZE app_settings, invoice_lines, authors, books, stores;
