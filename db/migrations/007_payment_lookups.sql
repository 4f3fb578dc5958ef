-- Reconciliation of payments whose outcome was unknown: how often the PSP was asked and since when. After
-- enough lookups over enough time with no charge found, the payment is final as `not_charged`.
ALTER TABLE payments ADD COLUMN lookups integer NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN first_lookup_at timestamptz;
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('succeeded', 'declined', 'refunded', 'unknown', 'not_charged'));
