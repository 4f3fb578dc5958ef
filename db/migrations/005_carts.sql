-- Storefront: persisted carts of signed-in users, and regular (non-flash) checkouts.

-- The durable copy of a signed-in user's cart. Redis holds the live cart; a write-behind flusher upserts
-- here in batches, and a cart Redis has lost is reloaded from here. `items` maps product id -> quantity.
-- `version` is the cart's change counter in Redis: a flush never replaces a newer version with an older one.
CREATE TABLE carts (
  user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  items      jsonb NOT NULL DEFAULT '{}'::jsonb,
  version    bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carts_updated ON carts (updated_at);

-- One row per regular checkout saga, keyed by the shopper's Idempotency-Key, so the same key never
-- creates a second order. Written in the same transaction as the stock decrement (status `reserved`),
-- then `completed` (with its order) or `failed` (stock given back, error kept to answer a replay).
CREATE TABLE checkouts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         bigint NOT NULL REFERENCES users (id),
  idempotency_key text NOT NULL,
  status          text NOT NULL CHECK (status IN ('reserved', 'completed', 'failed')),
  -- [{productId, quantity, unitPriceCents}]: what was taken from stock, at the price charged.
  items           jsonb NOT NULL DEFAULT '[]'::jsonb,
  total_cents     integer NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
  payment_method  text NOT NULL,
  order_id        uuid REFERENCES orders (id),
  error_code      text,
  error_message   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, idempotency_key)
);
CREATE INDEX checkouts_reserved ON checkouts (updated_at) WHERE status = 'reserved';
