import { z } from 'zod';
import type { Context } from '../infra/context.js';
import { inTransaction } from '../infra/db.js';
import { AppError } from '../infra/errors.js';
import { writeOutbox } from '../infra/outbox.js';
import { isId } from './sales.js';

export const productInput = z.object({
  sku: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional(),
  category: z.string().trim().max(100).optional(),
  priceCents: z.number().int().min(0).max(100_000_000),
  stock: z.number().int().min(0).max(10_000_000),
});
export type ProductInput = z.infer<typeof productInput>;

export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  sellerId: string;
  /** Units in inventory now (units allocated to open sales are not counted). */
  stock: number;
  version: number;
  createdAt: string;
}

const toProduct = (r: any): Product => ({
  id: String(r.id),
  sku: r.sku,
  name: r.name,
  description: r.description,
  category: r.category,
  priceCents: r.price_cents,
  sellerId: String(r.seller_id),
  stock: r.quantity,
  version: r.version,
  createdAt: r.created_at.toISOString(),
});

/** Product and its inventory row in one transaction, with an outbox row for the search index. */
export async function createProduct(ctx: Context, input: ProductInput): Promise<Product> {
  return inTransaction(ctx.db, async (client) => {
    const ins = await client.query(
      `INSERT INTO products (sku, name, description, category, price_cents) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sku) DO NOTHING RETURNING *`,
      [input.sku, input.name, input.description ?? '', input.category ?? '', input.priceCents],
    );
    if (ins.rows.length === 0) throw new AppError('conflict', `a product with sku "${input.sku}" already exists`);
    const p = ins.rows[0];
    const inv = await client.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2) RETURNING quantity, version', [p.id, input.stock]);
    await writeOutbox(client, 'product', p.id);
    return toProduct({ ...p, ...inv.rows[0] });
  });
}

export async function getProduct(ctx: Context, id: string): Promise<Product | null> {
  if (!isId(id)) return null;
  const { rows } = await ctx.db.query(
    `SELECT p.*, coalesce(i.quantity, 0) AS quantity, coalesce(i.version, 0) AS version
     FROM products p LEFT JOIN inventory i ON i.product_id = p.id WHERE p.id = $1`,
    [id],
  );
  return rows.length ? toProduct(rows[0]) : null;
}
