import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../infra/db.js';
import { writeOutbox } from '../infra/outbox.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { drainOutbox, startOutboxWorker } from './outbox-worker.js';
import { generationKey } from './search/cache.js';
import { loadDocuments } from './search/documents.js';
import type { SearchDocument, SearchSink } from './search/types.js';

/**
 * The outbox worker against the real BullMQ queue and outbox table, with a recording sink standing in for
 * Elasticsearch: it keeps what an index with external versioning would keep, and every call it got.
 */
class RecordingSink implements SearchSink {
  calls: Array<{ upserts: SearchDocument[]; deletes: number[]; version: number }> = [];
  index = new Map<number, { doc: SearchDocument | null; version: number }>();
  active = 0;
  maxActive = 0;
  failures = 0;

  async apply(change: { upserts: SearchDocument[]; deletes: number[]; version: number }): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await new Promise((r) => setTimeout(r, 2));
      this.calls.push(change);
      for (const doc of change.upserts) this.put(doc.id, doc, change.version);
      for (const id of change.deletes) this.put(id, null, change.version);
      if (this.failures > 0) {
        this.failures--;
        throw new Error('sink failed after writing (as if the process died before the commit)');
      }
    } finally {
      this.active--;
    }
  }

  async current(ids: number[]): Promise<SearchDocument[]> {
    return ids.flatMap((id) => {
      const doc = this.index.get(id)?.doc;
      return doc ? [doc] : [];
    });
  }

  private put(id: number, doc: SearchDocument | null, version: number) {
    const cur = this.index.get(id);
    if (!cur || cur.version <= version) this.index.set(id, { doc, version });
  }

  /** Versions this product was written with, in call order. */
  versions(id: number): number[] {
    return this.calls.filter((c) => c.upserts.some((d) => d.id === id) || c.deletes.includes(id)).map((c) => c.version);
  }
}

let w: TestWorld;
let n = 0;

async function createProduct(stock: number): Promise<number> {
  return inTransaction(w.ctx.db, async (client) => {
    const { rows } = await client.query(
      `INSERT INTO products (sku, name, category, price_cents) VALUES ($1, $2, 'test', $3) RETURNING id`,
      [`outbox-${++n}`, `Outbox product ${n}`, 1000 + n],
    );
    await client.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2)', [rows[0].id, stock]);
    await writeOutbox(client, 'product', rows[0].id);
    return Number(rows[0].id);
  });
}

async function setStock(id: number, quantity: number): Promise<void> {
  await inTransaction(w.ctx.db, async (client) => {
    await client.query('UPDATE inventory SET quantity = $2, version = version + 1 WHERE product_id = $1', [id, quantity]);
    await writeOutbox(client, 'product', id);
  });
}

const outboxSize = async () => (await w.ctx.db.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n as number;

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

/** The sink holds exactly the current state of these products (absent ones deleted). */
async function expectSinkCurrent(sink: RecordingSink, ids: number[]): Promise<void> {
  const current = new Map((await loadDocuments(w.ctx.db, ids)).map((d) => [d.id, d]));
  for (const id of ids) expect(sink.index.get(id)?.doc ?? null, `product ${id}`).toEqual(current.get(id) ?? null);
}

beforeAll(async () => {
  w = await createTestWorld();
});

afterAll(async () => {
  await w?.cleanup();
});

describe('outbox worker', () => {
  it('300 concurrent product and stock changes: the sink ends with every product as it is, versions only rising, outbox empty', async () => {
    const sink = new RecordingSink();
    const stop = await startOutboxWorker(w.ctx, sink, { intervalMs: 50, batchSize: 40 });
    try {
      const ids = await Promise.all(Array.from({ length: 20 }, () => createProduct(5)));
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => {
          const id = ids[i % ids.length]!;
          if (i % 50 === 7) {
            return inTransaction(w.ctx.db, async (client) => {
              await client.query('UPDATE products SET price_cents = price_cents + 100, updated_at = now() WHERE id = $1', [id]);
              await writeOutbox(client, 'product', id);
            });
          }
          return setStock(id, (i * 7) % 4); // 0 (out of stock) in a quarter of the changes
        }),
      );
      const gone = ids[3]!;
      await inTransaction(w.ctx.db, async (client) => {
        await client.query('DELETE FROM products WHERE id = $1', [gone]);
        await writeOutbox(client, 'product', gone);
      });
      await eventually(async () => (await outboxSize()) === 0 && sink.index.get(gone)?.doc === null, 'outbox drained');
      await expectSinkCurrent(sink, ids);
      expect(sink.index.get(gone)).toMatchObject({ doc: null });
      for (const id of ids) {
        const versions = sink.versions(id);
        expect(versions.length).toBeGreaterThan(0);
        for (let k = 1; k < versions.length; k++) expect(versions[k]!).toBeGreaterThan(versions[k - 1]!);
      }
      expect(sink.maxActive).toBe(1);
    } finally {
      await stop();
    }
  });

  it('a drain that fails after the sink wrote leaves its rows; the next drain writes the same state again with a higher version', async () => {
    const sink = new RecordingSink();
    const id = await createProduct(3);
    await setStock(id, 0);
    sink.failures = 1;
    await expect(drainOutbox(w.ctx, sink)).rejects.toThrow(/sink failed/);
    expect(await outboxSize()).toBe(2);
    const first = sink.index.get(id)!;
    expect(first.doc?.inStock).toBe(false);
    const result = await drainOutbox(w.ctx, sink);
    expect(result).toEqual({ rows: 2, products: 1 });
    expect(await outboxSize()).toBe(0);
    const second = sink.index.get(id)!;
    expect(second.doc).toEqual(first.doc);
    expect(second.version).toBeGreaterThan(first.version);
    expect(await drainOutbox(w.ctx, sink)).toEqual({ rows: 0, products: 0 });
  });

  it('ten drains started at once never overlap: one applies each change, the others find the lock taken or nothing left', async () => {
    const sink = new RecordingSink();
    const ids = await Promise.all(Array.from({ length: 50 }, () => createProduct(1)));
    const results = await Promise.all(Array.from({ length: 10 }, () => drainOutbox(w.ctx, sink, { batchSize: 10 })));
    while ((await outboxSize()) > 0) await drainOutbox(w.ctx, sink);
    expect(sink.maxActive).toBe(1);
    const applied = sink.calls.flatMap((c) => c.upserts.map((d) => d.id));
    expect(applied.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(results.reduce((s, r) => s + r.rows, 0)).toBeLessThanOrEqual(50);
    await expectSinkCurrent(sink, ids);
  });

  it('the search generation moves only when what search shows changes: a stock flip is published as such, a price change as a full change', async () => {
    const sink = new RecordingSink();
    const id = await createProduct(5);
    await drainOutbox(w.ctx, sink);
    const generation = async () => Number(await w.ctx.redis.get(generationKey(w.config.redisPrefix)));
    const changes = async (g: number) => w.ctx.redis.get(`${w.config.redisPrefix}search:changes:${g}`);
    const g0 = await generation();
    await setStock(id, 4); // still in stock: nothing search shows has changed
    await drainOutbox(w.ctx, sink);
    expect(await generation()).toBe(g0);
    await setStock(id, 0);
    await drainOutbox(w.ctx, sink);
    expect(await generation()).toBe(g0 + 1);
    expect(JSON.parse((await changes(g0 + 1))!)).toEqual([[id, false]]);
    await inTransaction(w.ctx.db, async (client) => {
      await client.query('UPDATE products SET price_cents = price_cents + 1 WHERE id = $1', [id]);
      await writeOutbox(client, 'product', id);
    });
    await drainOutbox(w.ctx, sink);
    expect(await generation()).toBe(g0 + 2);
    expect(await changes(g0 + 2)).toBeNull(); // a full change: caches drop everything
  });

  it('an outbox key that is not a product id is dropped, not retried forever', async () => {
    const sink = new RecordingSink();
    await inTransaction(w.ctx.db, (client) => writeOutbox(client, 'product', 'not-a-number'));
    expect(await drainOutbox(w.ctx, sink)).toEqual({ rows: 1, products: 0 });
    expect(await outboxSize()).toBe(0);
  });
});
