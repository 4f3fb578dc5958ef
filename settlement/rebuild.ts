import type { Context } from '../infra/context.js';
import { runScript } from '../reservation/index.js';
import { settlementSaleKeys } from './keys.js';

export interface RebuildResult {
  saleId: string;
  soldUnits: number;
  heldUnits: number;
  stock: number;
  /** Paid orders whose hold Redis had lost or had behind (now sold again). */
  soldRestored: number;
  /** Held holds released because, with the paid orders back, they no longer fit in the quantity. */
  holdsReleased: number;
  /** Units still over the quantity (paying holds only; settlement and reconciliation decide them). */
  overBy: number;
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
  const k = settlementSaleKeys(ctx.config.redisPrefix, saleId);
  await ctx.redis.hset(k.meta, 'fenced', '1');
  const { rows } = await ctx.db.query<{ rid: string; user_id: number; units: number }>(
    `SELECT o.reservation_id AS rid, o.user_id, COALESCE(sum(i.quantity), 0)::int AS units
     FROM orders o JOIN order_items i ON i.order_id = o.id
     WHERE o.sale_id = $1 AND o.status IN ('paid', 'shipped') GROUP BY o.id`,
    [saleId],
  );
  const argv: Array<string | number> = [Date.now()];
  for (const r of rows) argv.push(r.rid, String(r.user_id), r.units);
  const [soldUnits, heldUnits, stock, soldRestored, holdsReleased, overBy] = await runScript<number[]>(
    ctx.redis,
    'rebuild-sale',
    [k.meta, k.stock, k.holds, k.users, k.stats, k.paying, k.sold],
    argv,
  );
  const result = { saleId, soldUnits, heldUnits, stock, soldRestored, holdsReleased, overBy, ms: Date.now() - started };
  ctx.log.error(result, 'sale rebuilt after Redis lost acknowledged writes');
  return result;
}
