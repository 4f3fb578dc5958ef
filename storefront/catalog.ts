import { z } from 'zod';
import { inTransaction, type Db, type DbClient } from '../infra/db.js';
import { AppError } from '../infra/errors.js';
import { writeOutbox } from '../infra/outbox.js';

/**
 * The catalog: products and their inventory, owned by the storefront. Merchants create products
 * (POST /admin/products), shoppers read them (GET /api/products/:id), search indexes them, carts and
 * checkout price them, and flash sales (reservation/) allocate units from their inventory row.
 * This file is the one place that knows a product's row: one type and one row mapper (ids from the wire
 * go through infra/http.ts `parseId`, like every id).
 */
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
  /** Inventory row version (optimistic locking of stock changes). */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const productInput = z.object({
  sku: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional(),
  category: z.string().trim().max(100).optional(),
  priceCents: z.number().int().min(0).max(100_000_000),
  stock: z.number().int().min(0).max(10_000_000),
});
export type ProductInput = z.infer<typeof productInput>;

/** The columns productFromRow reads, from `products p LEFT JOIN inventory i`. */
export const PRODUCT_SELECT = `SELECT p.id, p.sku, p.name, p.description, p.category, p.price_cents, p.seller_id, p.created_at,
    p.updated_at, coalesce(i.quantity, 0) AS quantity, coalesce(i.version, 0) AS version
  FROM products p LEFT JOIN inventory i ON i.product_id = p.id`;

export interface ProductRow {
  id: string | number;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  seller_id: string | number;
  created_at: Date;
  updated_at: Date;
  quantity: number;
  version: number;
}

export function productFromRow(r: ProductRow): Product {
  return {
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
    updatedAt: r.updated_at.toISOString(),
  };
}

/** What a merchant sees (POST and GET /admin/products). */
export function merchantProductView(p: Product) {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    description: p.description,
    category: p.category,
    priceCents: p.priceCents,
    sellerId: p.sellerId,
    stock: p.stock,
    version: p.version,
    createdAt: p.createdAt,
  };
}

/** What a shopper sees (GET /api/products/:id): whether any unit is left, not how many. */
export function shopperProductView(p: Product) {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    description: p.description,
    category: p.category,
    priceCents: p.priceCents,
    sellerId: p.sellerId,
    inStock: p.stock > 0,
    updatedAt: p.updatedAt,
  };
}

/** Product and its inventory row in one transaction, with an outbox row for the search index. */
export async function createProduct(ctx: { db: Db }, input: ProductInput): Promise<Product> {
  return inTransaction(ctx.db, async (client) => {
    const ins = await client.query(
      `INSERT INTO products (sku, name, description, category, price_cents) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sku) DO NOTHING RETURNING id`,
      [input.sku, input.name, input.description ?? '', input.category ?? '', input.priceCents],
    );
    if (ins.rows.length === 0) throw new AppError('conflict', `a product with sku "${input.sku}" already exists`);
    const id = String(ins.rows[0].id);
    await client.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2)', [id, input.stock]);
    await writeOutbox(client, 'product', id);
    return (await getProducts(client, [id]))[0]!;
  });
}

/** The product with this id (as `parseId` gives it), or null. */
export async function getProduct(db: Db | DbClient, id: string): Promise<Product | null> {
  return (await getProducts(db, [id]))[0] ?? null;
}

/** Products by id; ids with no product are left out. */
export async function getProducts(db: Db | DbClient, ids: Array<string | number>): Promise<Product[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ProductRow>(`${PRODUCT_SELECT} WHERE p.id = ANY($1::bigint[])`, [ids]);
  return rows.map(productFromRow);
}
