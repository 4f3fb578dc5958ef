import type { Context } from '../infra/context.js';
import { rebuildSaleScript, saleKeys, type SaleRebuilt } from '../reservation/index.js';

export interface RebuildResult extends SaleRebuilt {
  saleId: string;
  ms: number;
}

/**
 * Fence, rebuild, resume: the sale's reservations answer 503 `sale_recovering` (meta field `fenced`) while
 * its paid orders are read from Postgres; then one script (rebuild-sale-7.lua) makes every paid order a sold
 * hold, counts held, sold, stock and each user's units again from the hold records, releases the newest held
 * holds that no longer fit, and lifts the fence. If Postgres cannot be read, the fence stays (the next
 * reconciliation run tries again): better 503 than selling a unit twice.
 */
export async function rebuildSale(ctx: Context, saleId: string): Promise<RebuildResult> {
  const started = Date.now();
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  await ctx.redis.hset(k.meta, 'fenced', '1');
  const { rows } = await ctx.db.query<{ rid: string; user_id: number; units: number }>(
    `SELECT o.reservation_id AS rid, o.user_id, COALESCE(sum(i.quantity), 0)::int AS units
     FROM orders o JOIN order_items i ON i.order_id = o.id
     WHERE o.sale_id = $1 AND o.status IN ('paid', 'shipped') GROUP BY o.id`,
    [saleId],
  );
  const paid = rows.map((r) => ({ rid: r.rid, userId: String(r.user_id), quantity: r.units }));
  const rebuilt = await rebuildSaleScript(ctx.redis, k, paid, Date.now());
  const result = { saleId, ...rebuilt, ms: Date.now() - started };
  ctx.log.error(result, 'sale rebuilt after Redis lost acknowledged writes');
  return result;
}
