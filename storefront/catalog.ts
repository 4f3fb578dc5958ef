import type { Db } from '../infra/db.js';
import { AppError, notFound } from '../infra/errors.js';

export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  sellerId: number;
  inStock: boolean;
  updatedAt: string;
}

/** Parses a product id from a path segment: a positive integer within bigint range, else 400. */
export function parseProductId(raw: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new AppError('invalid_request', 'id: must be a positive integer', 'id');
  return Number(raw);
}

/** A product with its current price and whether its inventory has any units left (live, not from the index). */
export async function getProduct(db: Db, id: number): Promise<Product> {
  const { rows } = await db.query(
    `SELECT p.id, p.sku, p.name, p.description, p.category, p.price_cents, p.seller_id, p.updated_at,
            coalesce(i.quantity, 0) > 0 AS in_stock
     FROM products p LEFT JOIN inventory i ON i.product_id = p.id WHERE p.id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) throw notFound('product');
  return {
    id: Number(r.id),
    sku: r.sku,
    name: r.name,
    description: r.description,
    category: r.category,
    priceCents: r.price_cents,
    sellerId: Number(r.seller_id),
    inStock: r.in_stock,
    updatedAt: (r.updated_at as Date).toISOString(),
  };
}
