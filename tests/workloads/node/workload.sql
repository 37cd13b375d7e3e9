-- Tables the Node.js workloads need beside the shop schema (tests/workloads/shop.sql, loaded first).
-- invoice_lines: 20,000 invoices of 8 to 15 lines, indexed by invoice (a per-invoice read is one
-- index range scan); app_settings: the handful of settings an application reads by key.
SET client_min_messages = warning;
DROP TABLE IF EXISTS invoice_lines, app_settings;

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
VACUUM ANALYZE app_settings, invoice_lines;
