import type { Db, DbClient } from '../../infra/db.js';
import type { SearchDocument } from './types.js';

/** A product as the search index sees it: in stock when its inventory row has quantity > 0. */
const select = `SELECT p.id, p.name, p.description, p.category, p.price_cents, p.seller_id,
  coalesce(i.quantity, 0) > 0 AS in_stock
  FROM products p LEFT JOIN inventory i ON i.product_id = p.id`;

const toDocument = (r: any): SearchDocument => ({
  id: Number(r.id),
  name: r.name,
  description: r.description,
  category: r.category,
  priceCents: r.price_cents,
  sellerId: Number(r.seller_id),
  inStock: r.in_stock,
});

/** Current documents for these product ids (ids with no product left are simply absent). */
export async function loadDocuments(db: Db | DbClient, ids: number[]): Promise<SearchDocument[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(`${select} WHERE p.id = ANY($1::bigint[])`, [ids]);
  return rows.map(toDocument);
}

/** Every document, in id order, `batchSize` at a time (keyset paging, so it is cheap on any size). */
export async function* allDocuments(db: Db, batchSize = 5000): AsyncGenerator<SearchDocument[]> {
  let after = 0;
  for (;;) {
    const { rows } = await db.query(`${select} WHERE p.id > $1 ORDER BY p.id LIMIT $2`, [after, batchSize]);
    if (rows.length === 0) return;
    const docs = rows.map(toDocument);
    yield docs;
    after = docs[docs.length - 1]!.id;
  }
}

export async function countProducts(db: Db): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM products');
  return rows[0].n;
}
