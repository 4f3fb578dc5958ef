import type { Db } from '../infra/db.js';
import { inTransaction } from '../infra/db.js';
import { catalogProduct } from './catalog-data.js';

/**
 * Loads products 0..count-1 of the deterministic catalog, with their inventory, in batches of multi-row
 * inserts (unnest of arrays: one statement and one round trip per batch). Upserts by SKU, so running it
 * again restores the same catalog instead of adding a second one. Does not touch the search index: call
 * the backend's reindex afterwards.
 */
export async function seedCatalog(db: Db, count: number, onProgress?: (done: number, total: number) => void, batchSize = 5000): Promise<void> {
  onProgress?.(0, count);
  for (let start = 0; start < count; start += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => catalogProduct(start + k));
    await inTransaction(db, async (client) => {
      const { rows } = await client.query(
        `INSERT INTO products (sku, name, description, category, price_cents, seller_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[])
         ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
           price_cents = EXCLUDED.price_cents, seller_id = EXCLUDED.seller_id, updated_at = now()
         RETURNING id, sku`,
        [
          batch.map((p) => p.sku),
          batch.map((p) => p.name),
          batch.map((p) => p.description),
          batch.map((p) => p.category),
          batch.map((p) => p.priceCents),
          batch.map((p) => p.sellerId),
        ],
      );
      const idBySku = new Map(rows.map((r) => [r.sku as string, Number(r.id)]));
      await client.query(
        `INSERT INTO inventory (product_id, quantity)
         SELECT * FROM unnest($1::bigint[], $2::int[])
         ON CONFLICT (product_id) DO UPDATE SET quantity = EXCLUDED.quantity, version = inventory.version + 1`,
        [batch.map((p) => idBySku.get(p.sku)), batch.map((p) => p.quantity)],
      );
    });
    onProgress?.(start + batch.length, count);
  }
}
