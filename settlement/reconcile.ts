import type { Context } from '../infra/context.js';
import { parseHoldRecord, saleKeys, saleStatus } from '../reservation/index.js';
import { observeReconciliation } from './metrics.js';
import { PAID_ORDER_STATUSES } from './order-status.js';
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
  action: 'marked_sold' | 'released' | 'paid_from_psp' | 'failed_from_psp' | 'requeued' | 'refunded' | 'dropped_stale' | 'order_from_psp';
}

export interface ReconcileResult {
  saleId: string;
  checkedAt: string;
  ok: boolean;
  /** Redis: quantity == remaining + held + sold must hold. */
  redis: { quantity: number; remaining: number; held: number; sold: number; paying: number };
  /** Units in paid (or shipped) orders in Postgres, checked out before the snapshot and settled. */
  postgres: { paidOrders: number; paidUnits: number };
  /** Mismatches seen before repairs (a repaired one appears here and in `repaired`, not in `mismatches`). */
  found: string[];
  /** Mismatches still there after repairs: `ok` is false when there are any. */
  mismatches: string[];
  repaired: Repair[];
}

/** A hold paying for longer than this with no live job is stuck (a crash lost its job or its step). */
export const STUCK_AFTER_MS = 30_000;

const LIVE_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/** The settlement job a checked-out hold stands for, rebuilt from the hold's record, its checkout and the sale meta. */
async function jobFromHold(ctx: Context, saleId: string, rid: string, status: 'paying' | 'sold'): Promise<(SettleJob & { jobId: string }) | null> {
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const [record, checkout, meta] = await Promise.all([
    ctx.redis.hget(k.records, rid),
    ctx.redis.hgetall(k.checkout(rid)),
    ctx.redis.hmget(k.meta, 'priceCents', 'productId'),
  ]);
  const hold = parseHoldRecord(record);
  if (!hold || hold.status !== status || !checkout.orderId) return null;
  return {
    rid,
    saleId,
    userId: hold.userId,
    orderId: checkout.orderId,
    productId: String(meta[1]),
    quantity: hold.quantity,
    unitPriceCents: Number(meta[0]),
    paymentMethod: checkout.paymentMethod,
    checkoutAt: Number(checkout.checkoutAt),
    jobId: checkout.jobId ?? rid,
  };
}

/**
 * Repairs one hold left `paying` with no live job (a crash between steps): from the order row when there
 * is one, else from the PSP's record of the charge (looked up by the reservation id, its idempotency key).
 */
async function repairHold(deps: ReconcileDeps, saleId: string, rid: string): Promise<Repair | null> {
  const { ctx, provider, queue, writer } = deps;
  const job = await jobFromHold(ctx, saleId, rid, 'paying');
  if (!job) {
    await ctx.redis.zrem(saleKeys(ctx.config.redisPrefix, saleId).paying, rid);
    return { rid, action: 'dropped_stale' };
  }
  // The job that settles it: its own (id = reservation id), or the batch job its checkout joined.
  const jobs = (await Promise.all([...new Set([rid, job.jobId])].map((id) => queue.getJob(id)))).filter((j) => j !== undefined);
  const states = await Promise.all(jobs.map((j) => j.getState()));
  if (states.some((s) => LIVE_JOB_STATES.has(s))) return null; // in flight: not stuck
  const existing = jobs.find((j) => j.id === rid);
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
  const { jobId: _batch, ...checkout } = job;
  await enqueueSettlement(queue, ctx.config, checkout);
  return { rid, action: 'requeued' };
}

/**
 * Holds sold in Redis whose order row is missing (a write lost, e.g. by a Postgres failover): the order is
 * written from the PSP's record of the charge. Paid rows whose hold is neither sold nor paying are only
 * reported: the unit may have been sold again, and only a person can settle that.
 */
async function repairSoldWithoutOrder(deps: ReconcileDeps, saleId: string, paying: Set<string>, found: string[]): Promise<Repair[]> {
  const { ctx, provider, writer } = deps;
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const [sold, { rows }] = await Promise.all([
    ctx.redis.smembers(k.sold),
    ctx.db.query<{ reservation_id: string }>('SELECT reservation_id FROM orders WHERE sale_id = $1 AND status = ANY($2)', [saleId, PAID_ORDER_STATUSES]),
  ]);
  const soldSet = new Set(sold);
  const paid = new Set(rows.map((r) => r.reservation_id));
  for (const rid of paid) if (!soldSet.has(rid) && !paying.has(rid)) found.push(`paid order for reservation ${rid}, whose hold is not sold`);
  const repaired: Repair[] = [];
  for (const rid of sold) {
    if (paid.has(rid)) continue;
    found.push(`reservation ${rid} is sold in Redis but has no paid order in Postgres`);
    const job = await jobFromHold(ctx, saleId, rid, 'sold');
    const charge = job ? await provider.findByKey(rid) : null;
    if (!job || charge?.status !== 'succeeded') continue;
    await writer.write(orderRow(job, 'paid', { chargeId: charge.id, status: 'succeeded' }));
    repaired.push({ rid, action: 'order_from_psp' });
  }
  await writer.drain();
  return repaired;
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
  const k = saleKeys(ctx.config.redisPrefix, saleId);
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

/** Compares the counters once: Redis with itself, and Redis sold with Postgres paid. */
async function measure(ctx: Context, saleId: string) {
  const snap = await snapshot(ctx, saleId);
  const { rows } = await ctx.db.query<{ orders: number; units: number }>(
    `SELECT count(DISTINCT o.id)::int AS orders, COALESCE(sum(i.quantity), 0)::int AS units
     FROM orders o JOIN order_items i ON i.order_id = o.id
     WHERE o.sale_id = $1 AND o.status = ANY($4) AND o.created_at <= $2
       AND NOT (o.reservation_id = ANY($3::text[]))`,
    [saleId, new Date(snap.at).toISOString(), snap.paying, PAID_ORDER_STATUSES],
  );
  const pg = { paidOrders: rows[0].orders, paidUnits: rows[0].units };
  const mismatches: string[] = [];
  if (snap.quantity !== snap.remaining + snap.held + snap.sold) {
    mismatches.push(`quantity ${snap.quantity} != remaining ${snap.remaining} + held ${snap.held} + sold ${snap.sold}`);
  }
  if (pg.paidUnits !== snap.sold) mismatches.push(`paid units in Postgres ${pg.paidUnits} != sold in Redis ${snap.sold}`);
  return { snap, pg, mismatches };
}

/**
 * Checks one sale: quantity == remaining + held + sold in Redis, and units in paid orders in Postgres ==
 * units sold in Redis. A paid order is written before its hold is marked sold, so the comparison leaves
 * out holds still paying at the snapshot and orders checked out after it.
 *
 * Repairs, from the order row or else the PSP's record (looked up by the reservation id): holds stuck in
 * `paying` with no live job (a crash between steps), holds sold without an order row (a lost write), and
 * failed orders whose charge went through after all (refunded). The result is written to the sale's
 * `recon` key (GET /admin/sales/:id shows it as stats.reconciliation); a mismatch left is logged.
 */
export async function reconcileSale(deps: ReconcileDeps, saleId: string, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const { ctx } = deps;
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const stuckBefore = (opts.now ?? Date.now()) - (opts.stuckAfterMs ?? STUCK_AFTER_MS);
  const found: string[] = [];
  const repaired: Repair[] = [];
  const failures: string[] = [];
  const stuck = await ctx.redis.zrangebyscore(k.paying, '-inf', String(stuckBefore), 'LIMIT', 0, 500);
  for (const rid of stuck) {
    try {
      const r = await repairHold(deps, saleId, rid);
      if (!r) continue;
      found.push(`reservation ${rid} was stuck paying`);
      repaired.push(r);
    } catch (err) {
      failures.push(`reservation ${rid} is stuck paying and could not be repaired: ${(err as Error).message}`);
    }
  }
  try {
    repaired.push(...(await settleUnknownPayments(deps, saleId)));
  } catch (err) {
    failures.push(`payments of unknown outcome could not be checked: ${(err as Error).message}`);
  }
  await deps.writer.drain();

  let m = await measure(ctx, saleId);
  if (m.pg.paidUnits !== m.snap.sold) {
    found.push(...m.mismatches);
    try {
      const fixed = await repairSoldWithoutOrder(deps, saleId, new Set(m.snap.paying), found);
      if (fixed.length) {
        repaired.push(...fixed);
        m = await measure(ctx, saleId);
      }
    } catch (err) {
      failures.push(`sold holds could not be compared with orders: ${(err as Error).message}`);
    }
  } else {
    found.push(...m.mismatches);
  }
  const mismatches = [...m.mismatches, ...failures];
  const result: ReconcileResult = {
    saleId,
    checkedAt: new Date().toISOString(),
    ok: mismatches.length === 0,
    redis: { quantity: m.snap.quantity, remaining: m.snap.remaining, held: m.snap.held, sold: m.snap.sold, paying: m.snap.paying.length },
    postgres: m.pg,
    found: [...new Set(found)],
    mismatches,
    repaired,
  };
  await ctx.redis.set(k.recon, JSON.stringify(result));
  observeReconciliation(result);
  if (!result.ok) ctx.log.error({ saleId, mismatches, repaired }, 'reconciliation found a mismatch');
  else if (repaired.length) ctx.log.warn({ saleId, found: result.found, repaired }, 'reconciliation repaired mismatches');
  return result;
}

/** Sales worth checking: open ones, and ones closed in the last day (their last checkouts settle late). */
export async function salesToReconcile(ctx: Context): Promise<string[]> {
  const { rows } = await ctx.db.query<{ id: number }>(
    `SELECT id FROM sales WHERE status = $1 OR (status = ANY($2) AND closed_at > now() - interval '1 day') ORDER BY id`,
    ['open', saleStatus.finals],
  );
  return rows.map((r) => String(r.id));
}

