import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { runWithLease } from '../infra/lease.js';
import { activeSalesKey, saleKeys } from './keys.js';
import { returnUnsold } from './lifecycle.js';
import { expireScript } from './scripts.js';
import { saleStatus } from './sale-status.js';

const BATCH = 500;
const MAX_BATCHES_PER_TICK = 20;

/**
 * One sweep over every active sale: expire the holds whose time is up (their units go back to stock), and
 * for a sale that has ended, return its unsold units to inventory once no hold is left, then drop it from
 * the active set. Returns the number of holds expired.
 */
export async function sweepOnce(ctx: Context, nowMs = Date.now()): Promise<number> {
  const prefix = ctx.config.redisPrefix;
  const ids = await ctx.redis.smembers(activeSalesKey(prefix));
  let expired = 0;
  for (const saleId of ids) {
    try {
      const k = saleKeys(prefix, saleId);
      for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
        const n = await expireScript(ctx.redis, k, nowMs, BATCH);
        expired += n;
        if (n < BATCH) break;
      }
      const status = await ctx.redis.hget(k.meta, 'status');
      if (status === null) await ctx.redis.srem(activeSalesKey(prefix), saleId);
      else if (saleStatus.is(status) && saleStatus.isFinal(status) && (await returnUnsold(ctx, saleId))) {
        await ctx.redis.srem(activeSalesKey(prefix), saleId);
      }
    } catch (err) {
      ctx.log.error({ err, saleId }, 'sweep of a sale failed');
    }
  }
  return expired;
}

/** Runs the sweep about every `sweepIntervalMs`, under a Redis lease so one process sweeps at a time. */
export function startSweeper(ctx: Context): () => Promise<void> {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  return runWithLease(
    ctx.redis,
    `${ctx.config.redisPrefix}lease:sweeper`,
    owner,
    ctx.config.sweepIntervalMs,
    async () => {
      await sweepOnce(ctx);
    },
    (err) => ctx.log.error({ err }, 'hold sweeper failed'),
  );
}
