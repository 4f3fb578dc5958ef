-- Core schema: users, catalog, inventory, flash sales, orders. Money is integer cents.

CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE products (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku         text NOT NULL UNIQUE,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  category    text NOT NULL DEFAULT '',
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  seller_id   bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inventory (
  product_id bigint PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
  quantity   integer NOT NULL CHECK (quantity >= 0),
  version    integer NOT NULL DEFAULT 0
);

CREATE TABLE sales (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id     bigint NOT NULL REFERENCES products (id),
  quantity       integer NOT NULL CHECK (quantity > 0),
  price_cents    integer NOT NULL CHECK (price_cents >= 0),
  starts_at      timestamptz NOT NULL,
  ends_at        timestamptz NOT NULL CHECK (ends_at > starts_at),
  per_user_limit integer NOT NULL CHECK (per_user_limit > 0),
  hold_seconds   integer NOT NULL CHECK (hold_seconds > 0),
  waiting_room   boolean NOT NULL DEFAULT false,
  -- Waiting-room settings: {batchSize, intervalMs, windowSeconds, overAdmissionFactor}.
  admission      jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- When the waiting room starts taking joins (default startsAt - 10 min), and its proof-of-work difficulty
  -- (leading zero bits of sha256; 0 = none).
  queue_opens_at timestamptz,
  pow_difficulty integer NOT NULL DEFAULT 0 CHECK (pow_difficulty BETWEEN 0 AND 32),
  status         text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'open', 'closed', 'cancelled')),
  -- Units given back to inventory after close; NULL until that one-time return has happened.
  units_returned integer,
  created_at     timestamptz NOT NULL DEFAULT now(),
  opened_at      timestamptz,
  closed_at      timestamptz
);
CREATE INDEX sales_product_status ON sales (product_id, status);

CREATE TABLE orders (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         bigint NOT NULL REFERENCES users (id),
  total_cents     integer NOT NULL CHECK (total_cents >= 0),
  status          text NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'shipped')),
  -- Set for flash-sale orders: one order per reservation, whatever retries happen.
  reservation_id  text UNIQUE,
  sale_id         bigint REFERENCES sales (id),
  idempotency_key text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_created ON orders (user_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX orders_user_idempotency ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE order_items (
  order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id       bigint NOT NULL REFERENCES products (id),
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);

-- One row per charge attempt that reached the PSP, keyed by its idempotency key (for flash orders, the
-- reservation id). A card is charged at most once per key, and the order it paid for is recorded here.
CREATE TABLE payments (
  idempotency_key text PRIMARY KEY,
  charge_id       text,
  order_id        uuid REFERENCES orders (id),
  amount_cents    integer NOT NULL CHECK (amount_cents >= 0),
  status          text NOT NULL CHECK (status IN ('succeeded', 'declined', 'refunded', 'unknown')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order ON payments (order_id);

-- Transactional outbox: product and inventory changes write a row here in the same transaction; a worker
-- drains it (in id order) into the search index. It stands in for CDC (Debezium) without Kafka.
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic      text NOT NULL,
  key        text NOT NULL,
  payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
