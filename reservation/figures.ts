import type { Context } from '../infra/context.js';
import { saleKeys } from './keys.js';
import { loadSale } from './sales.js';

/**
 * A sale's stock figures for the merchant console, read straight from Postgres and Redis (no cache):
 * status and times, quantity, remaining, held (held + paying), sold, and `reservations`, every hold ever
 * made by a reservation (its records hash keeps one field per hold; the holds a declined card's units
 * passed to are not counted). Null for an unknown sale.
 */
export async function stockFigures(ctx: Context, saleId: string) {
  const sale = await loadSale(ctx, ctx.db, saleId);
  if (!sale) return null;
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const [stock, [held, sold, reheld], holds] = await Promise.all([ctx.redis.get(k.stock), ctx.redis.hmget(k.stats, 'held', 'sold', 'reheld'), ctx.redis.hlen(k.records)]);
  return {
    name: sale.name,
    status: sale.status,
    startsAt: sale.startsAt.toISOString(),
    endsAt: sale.endsAt.toISOString(),
    waitingRoom: sale.waitingRoom,
    quantity: sale.quantity,
    remaining: sale.status === 'scheduled' ? sale.quantity : Number(stock ?? 0),
    held: Number(held ?? 0),
    sold: Number(sold ?? 0),
    reservations: holds - Number(reheld ?? 0),
  };
}
