-- Security hardening (issue #15).

-- Money is bigint cents everywhere: a cart or flash order above 2^31 cents ($21.4M) must not overflow.
-- Input validation keeps every amount within 2^53, so JSON numbers carry them exactly.
ALTER TABLE products       ALTER COLUMN price_cents      TYPE bigint;
ALTER TABLE sales          ALTER COLUMN price_cents      TYPE bigint;
ALTER TABLE orders         ALTER COLUMN total_cents      TYPE bigint;
ALTER TABLE order_items    ALTER COLUMN unit_price_cents TYPE bigint;
ALTER TABLE payments       ALTER COLUMN amount_cents     TYPE bigint;
ALTER TABLE checkouts      ALTER COLUMN total_cents      TYPE bigint;
ALTER TABLE product_search ALTER COLUMN price_cents      TYPE bigint;

-- Anti-bot options of a sale: accounts created after `accounts_created_before` may not queue or reserve;
-- at most `max_admissions_per_ip` shoppers from one client address get a place (NULL: no limit).
ALTER TABLE sales ADD COLUMN accounts_created_before timestamptz;
ALTER TABLE sales ADD COLUMN max_admissions_per_ip   integer CHECK (max_admissions_per_ip > 0);
