import type { Db, DbClient } from '../../infra/db.js';
import { PRODUCT_SELECT, productFromRow, type ProductRow } from '../catalog.js';
import type { SearchDocument } from './types.js';

const select = PRODUCT_SELECT;

/** A product (catalog.ts) as the search index sees it: in stock when its inventory row has quantity > 0. */
const toDocument = (r: ProductRow): SearchDocument => {
  const p = productFromRow(r);
  return {
    id: Number(p.id),
    name: p.name,
    description: p.description,
    category: p.category,
    priceCents: p.priceCents,
    sellerId: Number(p.sellerId),
    inStock: p.stock > 0,
  };
};

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
