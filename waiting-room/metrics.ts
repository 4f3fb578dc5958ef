import type { Context } from '../infra/context.js';
import { counter, sampledGauge } from '../infra/metrics.js';
import { queueKeys, queueSalesKey } from './keys.js';

export const websocketConnections = sampledGauge('websocket_connections', 'Open waiting-room WebSocket connections on this process');
const queueShoppers = sampledGauge('queue_shoppers', "Shoppers in a sale's waiting room: pre (joined before the start), waiting (with a ticket), admitted (not yet reserved)", ['sale', 'state']);
const admissions = counter('queue_admissions_total', 'Shoppers admitted by the ticks this process ran, by sale', ['sale']);

export function countAdmissions(saleId: string, n: number): void {
  if (n > 0) admissions.labels(saleId).inc(n);
}

/** Reads the queue sizes of every sale with a live waiting room from Redis at scrape time. */
export function sampleQueues(ctx: Context): () => void {
  return queueShoppers.add(async () => {
    const ids = await ctx.redis.smembers(queueSalesKey(ctx.config.redisPrefix));
    const rows = await Promise.all(
      ids.map(async (sale) => {
        const k = queueKeys(ctx.config.redisPrefix, sale);
        const [pre, waiting, admitted] = await Promise.all([ctx.redis.zcard(k.pre), ctx.redis.zcard(k.line), ctx.redis.zcard(k.admitted)]);
        return [
          [{ sale, state: 'pre' }, pre],
          [{ sale, state: 'waiting' }, waiting],
          [{ sale, state: 'admitted' }, admitted],
        ] as Array<[{ sale: string; state: string }, number]>;
      }),
    );
    return rows.flat();
  });
}
