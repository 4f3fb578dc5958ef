import type { Context } from '../infra/context.js';
import { saleKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * Coalesces the reservations of one sale that reach this process in the same event-loop turn into one
 * `reserve-batch` script call. A Redis script call has a fixed cost well above the work of one reservation,
 * so under load this is the difference between Redis and the gateway being the limit. Semantics do not
 * change: the script runs each request with every check, in arrival order, atomically. A lone request
 * uses `reserve` directly. Waiting is one setImmediate, not a timer.
 */
export type ReserveReply = [status: string, rid: string, quantity: number, expiresAt: number];
export interface ReserveArgs {
  userId: string;
  quantity: number;
  idempotencyKey: string;
  jti: string;
  markerSeconds: number;
}

interface Pending {
  args: ReserveArgs;
  resolve: (r: ReserveReply) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 200;
const queues = new WeakMap<Context, Map<string, Pending[]>>();

function queuesOf(ctx: Context): Map<string, Pending[]> {
  let q = queues.get(ctx);
  if (!q) queues.set(ctx, (q = new Map()));
  return q;
}

export function reserveInRedis(ctx: Context, saleId: string, args: ReserveArgs): Promise<ReserveReply> {
  return new Promise((resolve, reject) => {
    const all = queuesOf(ctx);
    let queue = all.get(saleId);
    if (!queue) {
      all.set(saleId, (queue = []));
      setImmediate(() => flush(ctx, saleId));
    }
    queue.push({ args, resolve, reject });
  });
}

function flush(ctx: Context, saleId: string): void {
  const all = queuesOf(ctx);
  const queue = all.get(saleId) ?? [];
  all.delete(saleId);
  for (let i = 0; i < queue.length; i += MAX_BATCH) void send(ctx, saleId, queue.slice(i, i + MAX_BATCH));
}

async function send(ctx: Context, saleId: string, batch: Pending[]): Promise<void> {
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const keys = [k.meta, k.stock, k.holds, k.users, k.idem, k.stats, k.events];
  const now = Date.now();
  try {
    if (batch.length === 1) {
      const a = batch[0].args;
      batch[0].resolve(await runScript<ReserveReply>(ctx.redis, 'reserve', keys, [a.userId, a.quantity, now, a.idempotencyKey, a.jti, a.markerSeconds]));
      return;
    }
    const argv: Array<string | number> = [now];
    for (const { args: a } of batch) argv.push(a.userId, a.quantity, a.idempotencyKey, a.jti, a.markerSeconds);
    const flat = await runScript<Array<string | number>>(ctx.redis, 'reserve-batch', keys, argv);
    batch.forEach((p, i) => p.resolve(flat.slice(i * 4, i * 4 + 4) as ReserveReply));
  } catch (err) {
    for (const p of batch) p.reject(err);
  }
}
