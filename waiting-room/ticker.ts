import { randomBytes } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { release, tryAcquire } from '../infra/lease.js';
import { publish as publishTo } from '../infra/redis.js';
import { getSale } from '../reservation/index.js';
import { allQueueKeys, channels, queueKeys, queueSalesKey, tickerLeaseKey } from './keys.js';
import { msg } from './messages.js';
import { countAdmissions } from './metrics.js';
import { grantAll, perSecond, tickSale, type TickResult } from './queue.js';
import { MAX_REFRESH_MS } from './tiers.js';

/** How often the lease holder steps every queue; admission itself happens once per sale's intervalMs. */
export const STEP_MS = 50;
const LEASE_MS = 1000;
/** How long a closed sale's queue keys stay for inspection. */
const KEEP_CLOSED_S = 24 * 3600;

/**
 * The admission ticker. Every process runs this loop, but only the holder of one Redis lease steps the
 * queues, and the tick script admits at most once per interval slot (recorded in Redis), so there is exactly
 * one admission tick per interval per sale however many gateways run, and through a change of holder.
 * What a tick decides is published once on Redis pub/sub; every gateway forwards it to its own sockets.
 */
export function startTicker(ctx: Context, onTick?: (saleId: string, r: TickResult) => void): () => Promise<void> {
  const owner = randomBytes(8).toString('hex');
  const lease = tickerLeaseKey(ctx.config.redisPrefix);
  const ch = channels(ctx.config.redisPrefix);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  /** When each sale's sockets last got a broadcast from this ticker (for the refreshes of slow sales). */
  const lastRound = new Map<string, number>();

  const publish = (saleId: string, kind: string, payload = '') => publishTo(ctx.redis, ch.broadcast, `${saleId}|${kind}|${payload}`);

  async function stepSale(saleId: string): Promise<void> {
    const sale = await getSale(ctx, saleId);
    if (!sale || !sale.waitingRoom) {
      await ctx.redis.srem(queueSalesKey(ctx.config.redisPrefix), saleId);
      return;
    }
    const r = await tickSale(ctx, sale);
    onTick?.(saleId, r);
    if (r.status === 'CLOSED') {
      if (r.ticked) await publish(saleId, 'closed');
      const k = queueKeys(ctx.config.redisPrefix, saleId);
      await Promise.all(allQueueKeys(k).map((key) => ctx.redis.expire(key, KEEP_CLOSED_S)));
      await ctx.redis.srem(queueSalesKey(ctx.config.redisPrefix), saleId);
      lastRound.delete(saleId);
      return;
    }
    if (r.shuffled) {
      const perSec = r.rateMilli >= 0 ? r.rateMilli / 1000 : perSecond(sale, -1);
      await publish(saleId, 'shuffled', JSON.stringify({ serving: r.serving, perSecond: perSec, soldOut: r.soldOut, tickets: r.handed }));
    }
    // The admission tokens first (one round trip), then every message of this step at once: Redis runs them
    // in order (admitted before the tick) without the ticker waiting for each reply in between.
    countAdmissions(saleId, r.admitted.length);
    const grants = r.admitted.length > 0 ? await grantAll(ctx, sale, r.admitted) : [];
    const sends: Array<Promise<unknown>> = [];
    if (grants.length > 0) sends.push(publishTo(ctx.redis, ch.admitted, JSON.stringify({ saleId, grants })));
    if (r.soldOutChanged && r.soldOut > 0) sends.push(publish(saleId, 'sold_out', msg.soldOut(r.soldOut === 2)));
    // One broadcast per admission tick (and at once when stock comes back); each gateway sends it to the
    // tiers due in this slot (tiers.ts). A sale that ticks slower than MAX_REFRESH_MS also gets refreshes
    // for every tier in between, so nobody waits longer than that.
    const round = () => JSON.stringify({ serving: r.serving, perSecond: Math.round((r.rateMilli >= 0 ? r.rateMilli / 1000 : perSecond(sale, -1)) * 100) / 100, slot: r.slot });
    const now = Date.now();
    if (!lastRound.has(saleId)) lastRound.set(saleId, now);
    if (r.status === 'OPEN' && r.soldOut === 0 && (r.ticked || r.soldOutChanged)) {
      sends.push(publish(saleId, r.soldOutChanged && !r.ticked ? 'refresh' : 'tick', round()));
      lastRound.set(saleId, now);
    } else if (r.status === 'OPEN' && r.soldOut === 0 && r.slot > 0 && now - (lastRound.get(saleId) ?? 0) >= MAX_REFRESH_MS) {
      sends.push(publish(saleId, 'refresh', round()));
      lastRound.set(saleId, now);
    }
    await Promise.all(sends);
  }

  async function step(): Promise<void> {
    if (!(await tryAcquire(ctx.redis, lease, owner, LEASE_MS))) return;
    const ids = await ctx.redis.smembers(queueSalesKey(ctx.config.redisPrefix));
    await Promise.all(
      ids.map((id) => stepSale(id).catch((err) => ctx.log.warn({ err, saleId: id }, 'waiting-room tick failed'))),
    );
  }

  const loop = () => {
    if (stopped) return;
    running = step()
      .catch((err) => ctx.log.warn({ err }, 'waiting-room ticker failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, STEP_MS);
      });
  };
  loop();

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    await release(ctx.redis, lease, owner).catch(() => {});
  };
}
