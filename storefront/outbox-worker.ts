import { Queue, Worker } from 'bullmq';
import type { Context } from '../infra/context.js';
import { inTransaction } from '../infra/db.js';
import { bumpGeneration, type IndexChange } from './search/cache.js';
import { loadDocuments } from './search/documents.js';
import { searchSyncLock } from './search/postgres.js';
import type { SearchDocument, SearchSink } from './search/types.js';

/**
 * Drains the transactional outbox (infra/outbox.ts) into the search index: the stand-in for CDC.
 *
 * A BullMQ job scheduler adds a `drain` job every `intervalMs`; one worker runs them. A drain takes a
 * Postgres advisory lock (so drains, in any number of processes, and reindexes never overlap), reads
 * outbox rows in id order, reads the CURRENT state of the products they name, hands those documents to
 * the sink stamped with a fresh version from `search_sync_version`, deletes the rows, and commits. Because
 * each drain sends current state with a higher version than any before it, order per product holds and
 * a replay (a crash between the sink write and the commit) writes the same state again: idempotent.
 * Then, if what search shows changed (not merely a stock count), it bumps the search generation with
 * what changed, so every process drops or patches its cached results.
 */
export const OUTBOX_QUEUE = 'search-outbox';

export interface OutboxOptions {
  /** How often a drain runs; a change shows in search within about this plus one drain. */
  intervalMs?: number;
  /** Outbox rows per transaction. */
  batchSize?: number;
  /** Stop draining after this long and leave the rest to the next job. */
  budgetMs?: number;
}

export interface DrainResult {
  rows: number;
  products: number;
}

/** What a drain changed in the index, as the result caches need to know it (see search/cache.ts). */
class ChangeLog {
  full = false;
  stock = new Map<number, boolean>();

  note(before: SearchDocument | undefined, after: SearchDocument | undefined): void {
    if (!before && !after) return;
    if (!before || !after || !sameExceptStock(before, after)) this.full = true;
    else if (before.inStock !== after.inStock) this.stock.set(after.id, after.inStock);
  }

  get change(): IndexChange | null {
    if (this.full) return { full: true };
    return this.stock.size ? { full: false, stock: [...this.stock] } : null;
  }
}

const sameExceptStock = (a: SearchDocument, b: SearchDocument) =>
  a.name === b.name && a.description === b.description && a.category === b.category && a.priceCents === b.priceCents && a.sellerId === b.sellerId;

/** One drain: repeats batches until the outbox is empty or the time budget is spent. */
export async function drainOutbox(ctx: Pick<Context, 'db' | 'log' | 'redis' | 'config'>, sink: SearchSink, opts: OutboxOptions = {}): Promise<DrainResult> {
  const batchSize = opts.batchSize ?? 1000;
  const deadline = Date.now() + (opts.budgetMs ?? 2000);
  const total: DrainResult = { rows: 0, products: 0 };
  const log = new ChangeLog();
  for (;;) {
    const batch = await drainBatch(ctx, sink, batchSize, log);
    if (batch === null) break; // another drain (or a reindex) holds the lock
    total.rows += batch.rows;
    total.products += batch.products;
    if (batch.rows < batchSize || Date.now() > deadline) break;
  }
  // Only a change to what search shows moves the generation: 5 -> 4 units left leaves every result as it was.
  const change = log.change;
  if (change) await bumpGeneration(ctx.redis, ctx.config.redisPrefix, change);
  return total;
}

async function drainBatch(ctx: Pick<Context, 'db' | 'log'>, sink: SearchSink, batchSize: number, log: ChangeLog): Promise<DrainResult | null> {
  return inTransaction(ctx.db, async (client) => {
    const { rows: locked } = await client.query('SELECT pg_try_advisory_xact_lock(hashtext($1 || current_schema())) AS ok', [searchSyncLock]);
    if (!locked[0].ok) return null;
    const { rows } = await client.query(`SELECT id, key FROM outbox WHERE topic = 'product' ORDER BY id LIMIT $1`, [batchSize]);
    if (rows.length === 0) return { rows: 0, products: 0 };
    const ids = new Set<number>();
    for (const r of rows) {
      const id = Number(r.key);
      if (Number.isSafeInteger(id) && id > 0) ids.add(id);
      else ctx.log.warn({ outboxId: r.id, key: r.key }, 'outbox row with a key that is not a product id; dropped');
    }
    const wanted = [...ids];
    const { rows: v } = await client.query(`SELECT nextval('search_sync_version')::bigint AS version`);
    const upserts = await loadDocuments(client, wanted);
    const before = new Map((await sink.current(wanted)).map((d) => [d.id, d]));
    const after = new Map(upserts.map((d) => [d.id, d]));
    for (const id of wanted) log.note(before.get(id), after.get(id));
    const found = new Set(upserts.map((d) => d.id));
    await sink.apply({ upserts, deletes: wanted.filter((id) => !found.has(id)), version: Number(v[0].version) });
    await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    return { rows: rows.length, products: wanted.length };
  });
}

/** Starts the scheduler and the worker; resolves to the stop function. */
export async function startOutboxWorker(ctx: Context, sink: SearchSink, opts: OutboxOptions = {}): Promise<() => Promise<void>> {
  const intervalMs = opts.intervalMs ?? 200;
  const queue = new Queue(OUTBOX_QUEUE, { connection: ctx.bull.connection, prefix: ctx.bull.prefixFor(OUTBOX_QUEUE) });
  await queue.upsertJobScheduler('drain', { every: intervalMs }, { name: 'drain', opts: { removeOnComplete: true, removeOnFail: 100 } });
  const worker = new Worker(OUTBOX_QUEUE, () => drainOutbox(ctx, sink, opts), {
    connection: ctx.newRedis('queue'),
    prefix: ctx.bull.prefixFor(OUTBOX_QUEUE),
    concurrency: 1,
  });
  worker.on('failed', (job, err) => ctx.log.warn({ err, job: job?.id }, 'outbox drain failed; the next one retries'));
  worker.on('error', (err) => ctx.log.error({ err }, 'outbox worker error'));
  return async () => {
    await worker.close();
    await queue.close();
  };
}
