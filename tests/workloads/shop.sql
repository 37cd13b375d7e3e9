-- A small shop: the schema every PostgreSQL scenario runs against.
-- orders.customer_id has no index on purpose (the missing-index scenario); everything else a
-- healthy workload needs is indexed.
SET client_min_messages = warning;
DROP TABLE IF EXISTS orders, products, categories, customers, accounts CASCADE;

CREATE TABLE customers (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE categories (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE products (
  id bigserial PRIMARY KEY,
  category_id int NOT NULL,
  name text NOT NULL,
  price_cents int NOT NULL,
  stock int NOT NULL DEFAULT 100
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL,
  status text NOT NULL,
  total_cents int NOT NULL,
  created_at timestamptz NOT NULL
);

-- Store-credit balances: a few hot rows every checkout updates (the lock scenario).
CREATE TABLE accounts (id int PRIMARY KEY, balance_cents bigint NOT NULL DEFAULT 0);
INSERT INTO accounts SELECT i FROM generate_series(1, 1000) i;

INSERT INTO customers (email, name)
SELECT 'customer' || i || '@example.com', 'Customer ' || i FROM generate_series(1, 20000) i;
INSERT INTO categories SELECT i, 'Category ' || i FROM generate_series(1, 50) i;
INSERT INTO products (category_id, name, price_cents)
SELECT 1 + (i % 50), 'Product ' || i, 100 + (i * 37) % 10000 FROM generate_series(1, 5000) i;
INSERT INTO orders (customer_id, status, total_cents, created_at)
SELECT 1 + (hashint4(i) & 2147483647) % 20000,
       (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + i % 4],
       500 + i % 20000,
       now() - make_interval(secs => i)
FROM generate_series(1, :orders) i;

-- Constraints after the load: one validating scan instead of a trigger per row.
ALTER TABLE products ADD FOREIGN KEY (category_id) REFERENCES categories (id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
CREATE INDEX products_category_id_idx ON products (category_id);
VACUUM ANALYZE customers, categories, products, orders, accounts;
