import type { Context } from '../infra/context.js';
import { saleKeys } from './keys.js';
import { reserveBatchScript, reserveKeys, reserveScript, type ReserveArgs, type ReserveReply } from './scripts.js';

/**
 * Coalesces the reservations of one sale that reach this process in the same event-loop turn into one
 * `reserve-batch` script call. A Redis script call has a fixed cost well above the work of one reservation,
 * so under load this is the difference between Redis and the gateway being the limit. Semantics do not
 * change: the script runs each request with every check, in arrival order, atomically. A lone request
 * uses `reserve` directly. At most MAX_IN_FLIGHT batches of a sale are in flight; requests that arrive
 * meanwhile form the next batch when one returns, so batches grow with load and an idle gateway waits for
 * nothing more than one setImmediate (no timer).
 */

interface Pending {
  args: ReserveArgs;
  resolve: (r: ReserveReply) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 200;
/** Batches of one sale in flight at once; requests arriving meanwhile wait and form the next batch. */
const MAX_IN_FLIGHT = 2;
interface SaleQueue {
  /** The sale's keys in the order reserve-batch takes them. */
  keys: string[];
  waiting: Pending[];
  inFlight: number;
  scheduled: boolean;
}
const queues = new WeakMap<Context, Map<string, SaleQueue>>();

function queueOf(ctx: Context, saleId: string): SaleQueue {
  let all = queues.get(ctx);
  if (!all) queues.set(ctx, (all = new Map()));
  let q = all.get(saleId);
  if (!q) {
    q = { keys: reserveKeys(saleKeys(ctx.config.redisPrefix, saleId)), waiting: [], inFlight: 0, scheduled: false };
    all.set(saleId, q);
  }
  return q;
}

export function reserveInRedis(ctx: Context, saleId: string, args: ReserveArgs): Promise<ReserveReply> {
  return new Promise((resolve, reject) => {
    const q = queueOf(ctx, saleId);
    q.waiting.push({ args, resolve, reject });
    if (!q.scheduled && q.inFlight < MAX_IN_FLIGHT) {
      q.scheduled = true;
      setImmediate(() => flush(ctx, saleId, q));
    }
  });
}

function flush(ctx: Context, saleId: string, q: SaleQueue): void {
  q.scheduled = false;
  while (q.waiting.length > 0 && q.inFlight < MAX_IN_FLIGHT) {
    const batch = q.waiting.splice(0, MAX_BATCH);
    q.inFlight++;
    void send(ctx, q.keys, batch).finally(() => {
      q.inFlight--;
      if (q.waiting.length > 0) flush(ctx, saleId, q);
      else if (q.inFlight === 0) queues.get(ctx)?.delete(saleId);
    });
  }
}

async function send(ctx: Context, keys: string[], batch: Pending[]): Promise<void> {
  const now = Date.now();
  try {
    if (batch.length === 1) {
      batch[0].resolve(await reserveScript(ctx.redis, keys, batch[0].args, now));
      return;
    }
    const replies = await reserveBatchScript(ctx.redis, keys, batch.map((p) => p.args), now);
    for (let i = 0; i < batch.length; i++) batch[i].resolve(replies[i]);
  } catch (err) {
    for (const p of batch) p.reject(err);
  }
}
