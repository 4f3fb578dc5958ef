import { z } from 'zod';
import type { Context } from '../infra/context.js';
import { inTransaction, type DbClient } from '../infra/db.js';
import { invalid, notFound } from '../infra/errors.js';
import { writeOutbox } from '../infra/outbox.js';
import { publish } from '../infra/redis.js';
import { activeSalesKey, saleKeys, saleStatusChannel } from './keys.js';
import { saleStatus, type SaleStatus } from './sale-status.js';
import { forgetSale, loadSale, saleStats, DEFAULT_ADMISSION, type Sale } from './sales.js';
import { closeSaleScript, openSaleScript } from './scripts.js';

/**
 * A sale's life: created (scheduled), opened (units allocated from inventory, stock written to Redis),
 * closed or cancelled (no more reservations), and finally its unsold units returned to inventory, once,
 * after the last hold has ended. Every step is safe to run again (BullMQ retries, restarts).
 */

const id = z.union([z.string().regex(/^[1-9]\d{0,17}$/, 'must be an id'), z.number().int().positive()]).transform(String);
const iso = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).transform((s) => new Date(s));

export const saleInput = z.object({
  productId: id,
  quantity: z.number().int().min(1).max(10_000_000),
  priceCents: z.number().int().min(0).max(100_000_000),
  startsAt: iso,
  endsAt: iso,
  perUserLimit: z.number().int().min(1).max(10_000),
  holdSeconds: z.number().int().min(1).max(24 * 3600),
  waitingRoom: z.boolean().default(false),
  admission: z
    .object({
      batchSize: z.number().int().min(1).max(100_000).default(DEFAULT_ADMISSION.batchSize),
      intervalMs: z.number().int().min(50).max(600_000).default(DEFAULT_ADMISSION.intervalMs),
      windowSeconds: z.number().int().min(5).max(24 * 3600).optional(),
      overAdmissionFactor: z.number().min(1).max(10).optional(),
    })
    .optional(),
  queueOpensAt: iso.optional(),
  powDifficulty: z.number().int().min(0).max(32).default(0),
  accountsCreatedBefore: iso.optional(),
  maxAdmissionsPerIp: z.number().int().min(1).max(1_000_000).optional(),
});
export type SaleInput = z.infer<typeof saleInput>;

/** Inserts a scheduled sale after checking times and the product's free inventory (under its row lock). */
export async function createSale(ctx: Context, input: SaleInput, nowMs = Date.now()): Promise<Sale> {
  if (input.endsAt.getTime() <= input.startsAt.getTime()) throw invalid('endsAt', 'must be after startsAt');
  if (input.endsAt.getTime() <= nowMs) throw invalid('endsAt', 'must be in the future');
  if (input.queueOpensAt && input.queueOpensAt.getTime() > input.startsAt.getTime()) throw invalid('queueOpensAt', 'must not be after startsAt');
  const admission = {
    ...(input.admission ?? DEFAULT_ADMISSION),
    windowSeconds: input.admission?.windowSeconds ?? DEFAULT_ADMISSION.windowSeconds,
    overAdmissionFactor: input.admission?.overAdmissionFactor ?? ctx.config.overAdmissionFactor,
  };
  const saleId = await inTransaction(ctx.db, async (c) => {
    const inv = await c.query('SELECT quantity FROM inventory WHERE product_id = $1 FOR UPDATE', [input.productId]);
    if (inv.rows.length === 0) throw notFound('product');
    const committed = await c.query('SELECT coalesce(sum(quantity), 0)::int AS n FROM sales WHERE product_id = $1 AND status = $2', [input.productId, 'scheduled']);
    const free = inv.rows[0].quantity - committed.rows[0].n;
    if (input.quantity > free) {
      // Part of validating the body (as the issue words it): 400, naming the field.
      throw invalid('quantity', `only ${Math.max(free, 0)} units of the product are free for a new sale`);
    }
    const { rows } = await c.query(
      `INSERT INTO sales (product_id, quantity, price_cents, starts_at, ends_at, per_user_limit, hold_seconds, waiting_room,
         admission, queue_opens_at, pow_difficulty, accounts_created_before, max_admissions_per_ip)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [input.productId, input.quantity, input.priceCents, input.startsAt, input.endsAt, input.perUserLimit, input.holdSeconds,
        input.waitingRoom, admission, input.queueOpensAt ?? null, input.powDifficulty, input.accountsCreatedBefore ?? null, input.maxAdmissionsPerIp ?? null],
    );
    return String(rows[0].id);
  });
  return (await loadSale(ctx, ctx.db, saleId))!;
}

/**
 * The one way `sales.status` changes: to `to`, only from a status the table lets move there (the row is
 * locked by the caller). `set` adds columns, with parameters from $4 on. False when the row was elsewhere.
 */
async function moveSale(c: DbClient, saleId: string, to: SaleStatus, set = '', params: unknown[] = []): Promise<boolean> {
  const { rowCount } = await c.query(`UPDATE sales SET status = $2${set} WHERE id = $1 AND status = ANY($3)`, [saleId, to, saleStatus.from(to), ...params]);
  return rowCount === 1;
}

async function publishStatus(ctx: Context, saleId: string, status: SaleStatus): Promise<void> {
  forgetSale(ctx, saleId);
  await publish(ctx.redis, saleStatusChannel(ctx.config.redisPrefix), JSON.stringify({ saleId, status }));
}

/**
 * Opens a sale: allocates its quantity from inventory and marks it open in one transaction, then writes
 * its stock and meta to Redis. A retry finds the row already open and only redoes the idempotent Redis part.
 * If inventory no longer covers the quantity (sold elsewhere since scheduling), the sale is cancelled.
 */
export async function openSale(ctx: Context, saleId: string): Promise<SaleStatus | null> {
  const sale = await inTransaction(ctx.db, async (c) => {
    const s = await loadSale(ctx, c, saleId, true);
    if (!s || s.status !== 'scheduled') return s;
    saleStatus.assert(s.status, 'open');
    const inv = await c.query(
      'UPDATE inventory SET quantity = quantity - $2, version = version + 1 WHERE product_id = $1 AND quantity >= $2 RETURNING quantity',
      [s.productId, s.quantity],
    );
    if (inv.rowCount === 0) {
      ctx.log.error({ saleId, productId: s.productId, quantity: s.quantity }, 'inventory no longer covers the sale; cancelling it');
      await moveSale(c, saleId, 'cancelled', ', closed_at = now(), units_returned = 0');
      return { ...s, status: 'cancelled' as const };
    }
    await writeOutbox(c, 'product', s.productId);
    await moveSale(c, saleId, 'open', ', opened_at = now()');
    return { ...s, status: 'open' as const };
  });
  if (!sale) return null;
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  if (sale.status === 'cancelled') {
    await closeSaleScript(ctx.redis, k, 'cancelled');
    await publishStatus(ctx, saleId, 'cancelled');
    return 'cancelled';
  }
  if (sale.status !== 'open') return sale.status;
  const status = await openSaleScript(ctx.redis, k, sale.quantity, [
    'id', sale.id,
    'productId', sale.productId,
    'priceCents', sale.priceCents,
    'quantity', sale.quantity,
    'perUserLimit', sale.perUserLimit,
    'holdSeconds', sale.holdSeconds,
    'waitingRoom', sale.waitingRoom ? 1 : 0,
    'startsAt', sale.startsAt.getTime(),
    'endsAt', sale.endsAt.getTime(),
  ]);
  await ctx.redis.sadd(activeSalesKey(ctx.config.redisPrefix), saleId);
  if (status === 'open') await publishStatus(ctx, saleId, 'open');
  return 'open';
}

/**
 * Ends a sale: an open one becomes `closed` (or `cancelled` when asked), a scheduled one `cancelled`
 * (nothing was allocated). Then Redis stops taking reservations, the change is published, and unsold
 * units go back to inventory if no hold is outstanding (else the sweeper does it once the holds end).
 */
export async function endSale(ctx: Context, saleId: string, want: 'closed' | 'cancelled' = 'closed'): Promise<SaleStatus | null> {
  const sale = await inTransaction(ctx.db, async (c) => {
    const s = await loadSale(ctx, c, saleId, true);
    if (!s || saleStatus.isFinal(s.status)) return s;
    const to: SaleStatus = s.status === 'scheduled' ? 'cancelled' : want;
    saleStatus.assert(s.status, to);
    const returned = s.status === 'scheduled' ? 0 : null; // nothing was allocated, nothing to return
    await moveSale(c, saleId, to, ', closed_at = now(), units_returned = coalesce(units_returned, $4)', [returned]);
    return { ...s, status: to };
  });
  if (!sale) return null;
  if (!saleStatus.isFinal(sale.status)) return sale.status;
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const before = await closeSaleScript(ctx.redis, k, sale.status as 'closed' | 'cancelled');
  if (!saleStatus.is(before) || !saleStatus.isFinal(before)) await publishStatus(ctx, saleId, sale.status);
  else forgetSale(ctx, saleId);
  await returnUnsold(ctx, saleId);
  return sale.status;
}

/**
 * Gives the unsold units of an ended sale back to inventory, exactly once (the units_returned guard), and
 * only when no hold can still come back (stats.held == 0: no hold held or paying). Returns true when the
 * sale needs nothing more (returned now or before); false when holds are still outstanding.
 */
export async function returnUnsold(ctx: Context, saleId: string): Promise<boolean> {
  const status = await ctx.redis.hget(saleKeys(ctx.config.redisPrefix, saleId).meta, 'status');
  if (!saleStatus.is(status) || !saleStatus.isFinal(status)) return false;
  const stats = await saleStats(ctx, saleId);
  if (stats.held > 0) return false;
  return inTransaction(ctx.db, async (c) => {
    const { rows } = await c.query(
      `UPDATE sales SET units_returned = $2 WHERE id = $1 AND units_returned IS NULL AND status = ANY($3)
       RETURNING product_id, quantity`,
      [saleId, stats.remaining, saleStatus.finals],
    );
    if (rows.length === 0) return true; // done before (or never allocated)
    if (stats.remaining + stats.sold !== rows[0].quantity) {
      ctx.log.warn({ saleId, ...stats, quantity: rows[0].quantity }, 'sale figures do not add up at close (remaining + sold != quantity)');
    }
    if (stats.remaining > 0) {
      await c.query('UPDATE inventory SET quantity = quantity + $2, version = version + 1 WHERE product_id = $1', [rows[0].product_id, stats.remaining]);
      await writeOutbox(c, 'product', rows[0].product_id);
    }
    ctx.log.info({ saleId, returned: stats.remaining, sold: stats.sold }, 'unsold units returned to inventory');
    return true;
  });
}
