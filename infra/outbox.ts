import type { DbClient } from './db.js';

/**
 * Records, inside the caller's transaction, that something the search index shows has changed.
 * Topic `product` with the product id as key covers product fields and inventory (the in-stock flag).
 */
export async function writeOutbox(client: DbClient, topic: 'product', key: string | number, payload: Record<string, unknown> = {}): Promise<void> {
  await client.query('INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)', [topic, String(key), payload]);
}
