-- Settlement: reconciliation sums paid units per sale, and re-checks payments whose outcome was unknown.
CREATE INDEX orders_sale_status ON orders (sale_id, status) WHERE sale_id IS NOT NULL;
CREATE INDEX payments_unknown ON payments (order_id) WHERE status = 'unknown';
