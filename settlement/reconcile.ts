import type { Context } from '../infra/context.js';
import { settlementSaleKeys } from './keys.js';
import type { OrderWriter } from './order-writer.js';
import type { PaymentProvider } from './payments.js';
import { enqueueSettlement, type SettlementQueue } from './queue.js';
import { markSold, notifyShopper, orderRow, releaseHold, type SettleJob } from './settle.js';

export interface ReconcileDeps {
  ctx: Context;
  provider: PaymentProvider;
  queue: SettlementQueue;
  writer: OrderWriter;
}

export interface ReconcileOptions {
  /** A hold paying for longer than this with no live job is treated as stuck (default 30 s). */
  stuckAfterMs?: number;
  now?: number;
}

export interface Repair {
  rid: string;
  action: 'marked_sold' | 'released' | 'paid_from_psp' | 'failed_from_psp' | 'requeued' | 'refunded' | 'dropped_stale';
}

export interface ReconcileResult {
  saleId: string;
  checkedAt: string;
  ok: boolean;
  /** Redis: quantity == remaining + held + sold must hold. */
  redis: { quantity: number; remaining: number; held: number; sold: number; paying: number };
  /** Units in paid (or shipped) orders in Postgres, checked out before the snapshot and settled. */
  postgres: { paidOrders: number; paidUnits: number };
  mismatches: string[];
  repaired: Repair[];
}

const LIVE_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/** The settlement job a stuck hold stands for, rebuilt from the hold hash and the sale meta. */
async function jobFromHold(ctx: Context, saleId: string, rid: string): Promise<SettleJob | null> {
  const k = settlementSaleKeys(ctx.config.redisPrefix, saleId);
  const [hold, meta] = await Promise.all([ctx.redis.hgetall(k.hold(rid)), ctx.redis.hmget(k.meta, 'priceCents', 'productId')]);
  if (hold.status !== 'paying' || !hold.orderId) return null;
  return {
    rid,
    saleId,
    userId: hold.userId,
    orderId: hold.orderId,
    productId: String(meta[1]),
    quantity: Number(hold.quantity),
    unitPriceCents: Number(meta[0]),
    paymentMethod: hold.paymentMethod,
    checkoutAt: Number(hold.checkoutAt),
  };
}

/**
 * Repairs one hold left `paying` with no live job (a crash between steps): from the order row when there
 * is one, else from the PSP's record of the charge (looked up by the reservation id, its idempotency key).
 */
async function repairHold(deps: ReconcileDeps, saleId: string, rid: string): Promise<Repair | null> {
  const { ctx, provider, queue, writer } = deps;
  const job = await jobFromHold(ctx, saleId, rid);
  if (!job) {
    await ctx.redis.zrem(settlementSaleKeys(ctx.config.redisPrefix, saleId).paying, rid);
    return { rid, action: 'dropped_stale' };
  }
  const existing = await queue.getJob(rid);
  if (existing && LIVE_JOB_STATES.has(await existing.getState())) return null; // in flight: not stuck
  const { rows } = await ctx.db.query<{ status: string }>('SELECT status FROM orders WHERE reservation_id = $1', [rid]);
  const written = rows[0]?.status;
  if (written === 'paid' || written === 'shipped') {
    await markSold(ctx, job);
    await notifyShopper(ctx, job, 'paid');
    return { rid, action: 'marked_sold' };
  }
  if (written === 'failed') {
    await releaseHold(ctx, job);
    await notifyShopper(ctx, job, 'failed');
    return { rid, action: 'released' };
  }
  const charge = await provider.findByKey(rid);
  if (charge?.status === 'succeeded') {
    await writer.write(orderRow(job, 'paid', { chargeId: charge.id, status: 'succeeded' }));
    await markSold(ctx, job);
    await notifyShopper(ctx, job, 'paid');
    return { rid, action: 'paid_from_psp' };
  }
  if (charge?.status === 'declined') {
    await writer.write(orderRow(job, 'failed', { chargeId: charge.id, status: 'declined' }));
    await releaseHold(ctx, job);
    await notifyShopper(ctx, job, 'failed');
    return { rid, action: 'failed_from_psp' };
  }
  // The PSP never saw it: the job was lost before charging. Settle it again (same order id, same key).
  await existing?.remove().catch(() => {});
  await enqueueSettlement(queue, ctx.config, job);
  return { rid, action: 'requeued' };
}

/** Failed orders whose payment outcome was unknown: if the PSP did charge after all, refund it. */
async function settleUnknownPayments(deps: ReconcileDeps, saleId: string): Promise<Repair[]> {
  const { ctx, provider } = deps;
  const { rows } = await ctx.db.query<{ idempotency_key: string }>(
    `SELECT p.idempotency_key FROM payments p JOIN orders o ON o.id = p.order_id
     WHERE o.sale_id = $1 AND p.status = 'unknown' AND o.status = 'failed' LIMIT 200`,
    [saleId],
  );
  const repaired: Repair[] = [];
  for (const { idempotency_key: key } of rows) {
    const charge = await provider.findByKey(key);
    if (!charge) continue; // never reached the PSP (looked at again next run)
    if (charge.status === 'succeeded' && !charge.refunded) await provider.refund(charge.id, `refund:${key}`);
    const status = charge.status === 'succeeded' ? 'refunded' : 'declined';
    await ctx.db.query(`UPDATE payments SET status = $2, charge_id = $3, updated_at = now() WHERE idempotency_key = $1`, [key, status, charge.id]);
    if (status === 'refunded') repaired.push({ rid: key, action: 'refunded' });
  }
  return repaired;
}

/** One consistent Redis snapshot of the sale's counters, taken with Redis's clock. */
async function snapshot(ctx: Context, saleId: string) {
  const k = settlementSaleKeys(ctx.config.redisPrefix, saleId);
  const res = await ctx.redis.multi().time().hget(k.meta, 'quantity').get(k.stock).hmget(k.stats, 'held', 'sold').zrange(k.paying, '0', '-1').exec();
  if (!res) throw new Error('reconciliation snapshot was aborted');
  for (const [err] of res) if (err) throw err;
  const [[, time], [, quantity], [, stock], [, stats], [, paying]] = res as Array<[null, any]>;
  return {
    at: Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000),
    quantity: Number(quantity ?? 0),
    remaining: Number(stock ?? 0),
    held: Number(stats[0] ?? 0),
    sold: Number(stats[1] ?? 0),
    paying: paying as string[],
  };
}

/**
 * Checks one sale: quantity == remaining + held + sold in Redis, and units in paid orders in Postgres ==
 * units sold in Redis. A paid order is written before its hold is marked sold, so the comparison leaves
 * out holds still paying at the snapshot and orders checked out after it. Holds stuck in `paying` are
 * repaired first. The result is written to the sale's `recon` key (shown by GET /admin/sales/:id).
 */
export async function reconcileSale(deps: ReconcileDeps, saleId: string, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const { ctx } = deps;
  const k = settlementSaleKeys(ctx.config.redisPrefix, saleId);
  const stuckBefore = (opts.now ?? Date.now()) - (opts.stuckAfterMs ?? 30_000);
  const mismatches: string[] = [];
  const repaired: Repair[] = [];
  const stuck = await ctx.redis.zrangebyscore(k.paying, '-inf', String(stuckBefore), 'LIMIT', 0, 500);
  for (const rid of stuck) {
    try {
      const r = await repairHold(deps, saleId, rid);
      if (r) repaired.push(r);
    } catch (err) {
      mismatches.push(`hold ${rid} is stuck paying and could not be repaired: ${(err as Error).message}`);
    }
  }
  try {
    repaired.push(...(await settleUnknownPayments(deps, saleId)));
  } catch (err) {
    mismatches.push(`payments of unknown outcome could not be checked: ${(err as Error).message}`);
  }
  await deps.writer.drain();

  const snap = await snapshot(ctx, saleId);
  const { rows } = await ctx.db.query<{ orders: number; units: number }>(
    `SELECT count(DISTINCT o.id)::int AS orders, COALESCE(sum(i.quantity), 0)::int AS units
     FROM orders o JOIN order_items i ON i.order_id = o.id
     WHERE o.sale_id = $1 AND o.status IN ('paid', 'shipped') AND o.created_at <= $2
       AND NOT (o.reservation_id = ANY($3::text[]))`,
    [saleId, new Date(snap.at).toISOString(), snap.paying],
  );
  const pg = { paidOrders: rows[0].orders, paidUnits: rows[0].units };
  if (snap.quantity !== snap.remaining + snap.held + snap.sold) {
    mismatches.push(`quantity ${snap.quantity} != remaining ${snap.remaining} + held ${snap.held} + sold ${snap.sold}`);
  }
  if (pg.paidUnits !== snap.sold) mismatches.push(`paid units in Postgres ${pg.paidUnits} != sold in Redis ${snap.sold}`);
  const result: ReconcileResult = {
    saleId,
    checkedAt: new Date().toISOString(),
    ok: mismatches.length === 0,
    redis: { quantity: snap.quantity, remaining: snap.remaining, held: snap.held, sold: snap.sold, paying: snap.paying.length },
    postgres: pg,
    mismatches,
    repaired,
  };
  await ctx.redis.set(k.recon, JSON.stringify(result));
  if (!result.ok) ctx.log.error({ saleId, mismatches, repaired }, 'reconciliation found a mismatch');
  else if (repaired.length) ctx.log.warn({ saleId, repaired }, 'reconciliation repaired stuck checkouts');
  return result;
}

/** Sales worth checking: open ones, and ones closed in the last day (their last checkouts settle late). */
export async function salesToReconcile(ctx: Context): Promise<string[]> {
  const { rows } = await ctx.db.query<{ id: number }>(
    `SELECT id FROM sales WHERE status = 'open' OR (status IN ('closed', 'cancelled') AND closed_at > now() - interval '1 day') ORDER BY id`,
  );
  return rows.map((r) => String(r.id));
}

