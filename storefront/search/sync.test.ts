import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../infra/db.js';
import { writeOutbox } from '../../infra/outbox.js';
import { seedCatalog } from '../../scripts/seed-catalog.js';
import { startTestEngine, type TestEngine } from '../../test/engine.js';
import { bumpGeneration } from './cache.js';
import { PostgresSearch } from './postgres.js';

/** The whole path through the running engine: write + outbox row -> BullMQ drain -> index -> cached search. */
let t: TestEngine;
const count = 500;

const search = async (query: Record<string, string | number | boolean>) => {
  const res = await t.api('GET', `/api/products/search?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`);
  expect(res.status).toBe(200);
  return res.body;
};

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

async function change(sql: string, args: unknown[], productId: number): Promise<void> {
  await inTransaction(t.ctx.db, async (client) => {
    await client.query(sql, args);
    await writeOutbox(client, 'product', productId);
  });
}

beforeAll(async () => {
  t = await startTestEngine({ searchSyncIntervalMs: 100 });
  await seedCatalog(t.ctx.db, count);
  await new PostgresSearch(t.ctx.db).reindex();
  await bumpGeneration(t.ctx.redis, t.config.redisPrefix);
});

afterAll(async () => {
  await t?.cleanup();
});

describe('search stays in step with products and inventory', () => {
  it('a product selling out shows as out of stock within the outbox cycle, and leaves the in-stock filter', async () => {
    const { rows } = await t.ctx.db.query(
      `SELECT p.id, p.name, p.category FROM products p JOIN inventory i ON i.product_id = p.id WHERE i.quantity > 0 ORDER BY p.id LIMIT 1`,
    );
    const { id, category } = rows[0];
    const inStockBefore = await search({ category, inStock: true, pageSize: 100 });
    const brand = String(rows[0].name).split(' ')[0]!;
    const textBefore = await search({ q: brand, category, inStock: true, pageSize: 100 });
    expect(textBefore.hits.some((h: any) => h.id === String(id))).toBe(true);
    const before = await search({ category, sort: 'price_asc', pageSize: 100 });
    expect(before.hits.find((h: any) => h.id === String(id))?.inStock ?? true).toBe(true);
    await change('UPDATE inventory SET quantity = 0, version = version + 1 WHERE product_id = $1', [id], id);
    const after = await eventually(
      () => search({ category, inStock: true, pageSize: 100 }),
      (b) => b.total === inStockBefore.total - 1,
      'in-stock count to drop',
    );
    expect(after.hits.some((h: any) => h.id === String(id))).toBe(false);
    const textAfter = await search({ q: brand, category, inStock: true, pageSize: 100 });
    expect(textAfter.total).toBe(textBefore.total - 1);
    // The unfiltered result cached before the change now shows the flag (patched in the cache, or recomputed).
    const unfiltered = await search({ category, sort: 'price_asc', pageSize: 100 });
    expect(unfiltered.total).toBe(before.total);
    const shown = unfiltered.hits.find((h: any) => h.id === String(id));
    expect(shown?.inStock).toBe(false);
    const outOfStock = await search({ category, inStock: false, pageSize: 100, sort: 'price_asc' });
    expect(outOfStock.facets.category).toEqual([{ value: category, count: outOfStock.total }]);
    await change('UPDATE inventory SET quantity = 9, version = version + 1 WHERE product_id = $1', [id], id);
    await eventually(() => search({ category, inStock: true, pageSize: 100 }), (b) => b.total === inStockBefore.total, 'restock to show');
  });

  it('a new product is findable, and a price change shows, after the outbox cycle', async () => {
    const id = await inTransaction(t.ctx.db, async (client) => {
      const { rows } = await client.query(
        `INSERT INTO products (sku, name, description, category, price_cents) VALUES ('sync-1', 'Zephyrine Quasar Kettle', 'A kettle', 'kitchen', 4599) RETURNING id`,
      );
      await client.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, 4)', [rows[0].id]);
      await writeOutbox(client, 'product', rows[0].id);
      return Number(rows[0].id);
    });
    const found = await eventually(() => search({ q: 'zephyrine' }), (b) => b.total === 1, 'new product to be found');
    expect(found.hits[0]).toEqual({ id: String(id), name: 'Zephyrine Quasar Kettle', priceCents: 4599, category: 'kitchen', inStock: true });
    // The new word is learnt for typo correction too (the catalog's "Zephyrus" laptops are near misses as well).
    await eventually(() => search({ q: 'zephyrnie' }), (b) => b.hits.some((h: any) => h.id === String(id)), 'misspelt new word to be found');
    await change('UPDATE products SET price_cents = 3999, updated_at = now() WHERE id = $1', [id], id);
    await eventually(() => search({ q: 'quasar kettle' }), (b) => b.hits[0]?.priceCents === 3999, 'new price to show');
    await change('DELETE FROM products WHERE id = $1', [id], id);
    await eventually(() => search({ q: 'zephyrine' }), (b) => b.total === 0, 'deleted product to go');
  });

  it('a reindex rebuilds the index from scratch while searches keep answering, and keeps changes made meanwhile', async () => {
    await t.ctx.db.query('DELETE FROM product_search');
    await bumpGeneration(t.ctx.redis, t.config.redisPrefix);
    expect((await search({})).total).toBe(0);
    const { rows } = await t.ctx.db.query(`SELECT product_id AS id FROM inventory WHERE quantity > 0 ORDER BY product_id DESC LIMIT 1`);
    const id = Number(rows[0].id);
    const reindex = new PostgresSearch(t.ctx.db).reindex();
    const [indexed, statuses] = await Promise.all([
      reindex,
      Promise.all(Array.from({ length: 50 }, () => t.api('GET', '/api/products/search?q=black').then((r) => r.status))),
      change('UPDATE inventory SET quantity = 0, version = version + 1 WHERE product_id = $1', [id], id),
    ]);
    const products = (await t.ctx.db.query('SELECT count(*)::int AS n FROM products')).rows[0].n;
    expect(indexed).toBe(products);
    expect(new Set(statuses)).toEqual(new Set([200]));
    await bumpGeneration(t.ctx.redis, t.config.redisPrefix);
    const all = await search({});
    expect(all.total).toBe(products);
    const { rows: p } = await t.ctx.db.query('SELECT category FROM products WHERE id = $1', [id]);
    await eventually(
      () => search({ category: p[0].category, inStock: false, pageSize: 100, sort: 'price_desc' }),
      (b) => b.total > 0 && (b.hits as any[]).some((h) => h.id === String(id)),
      'the change made during the reindex to show',
    );
  });
});
