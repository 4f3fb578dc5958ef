import { randomUUID } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { AppError, notFound } from '../infra/errors.js';
import { runScript, saleIdOfReservation } from '../reservation/index.js';
import { pendingOrdersKey, settlementSaleKeys } from './keys.js';
import type { OrderStatus } from './order-status.js';
import { enqueueSettlement, type SettlementQueue } from './queue.js';
import type { SettleJob } from './settle.js';

export interface CheckoutRequest {
  reservationId: string;
  userId: string;
  idempotencyKey: string;
  paymentMethod: string;
}

export interface CheckoutResult {
  orderId: string;
  status: OrderStatus;
  /** False when the same key had already checked this hold out. */
  created: boolean;
}

type ScriptReply = [string, string, number, number, string, number, string, string];

/** The order status a hold's state stands for. */
const statusOfHold: Record<string, OrderStatus> = { paying: 'pending', sold: 'paid', released: 'failed', expired: 'failed' };

/**
 * Starts paying for a hold: marks it `paying` atomically (begin-checkout Lua), records the pending order
 * for the shopper's order list, and enqueues the settlement job (job id = reservation id). A retry with
 * the same key returns the same order, and re-enqueues the job if the first request died before doing so.
 */
export async function checkout(ctx: Context, queue: SettlementQueue, req: CheckoutRequest, now = Date.now()): Promise<CheckoutResult> {
  const saleId = saleIdOfReservation(req.reservationId);
  if (!saleId) throw notFound('reservation');
  const k = settlementSaleKeys(ctx.config.redisPrefix, saleId);
  const [status, orderId, quantity, unitPriceCents, productId, checkoutAt, holdStatus, paymentMethod] = await runScript<ScriptReply>(
    ctx.redis,
    'begin-checkout',
    [k.meta, k.holds, k.paying],
    [req.reservationId, req.userId, now, req.idempotencyKey, randomUUID(), req.paymentMethod],
  );
  switch (status) {
    case 'NOT_FOUND':
      throw notFound('reservation');
    case 'EXPIRED':
      throw new AppError('hold_expired', holdStatus === 'released' ? 'the hold was released' : 'the hold has expired');
    case 'CONFLICT':
      throw new AppError('idempotency_conflict', 'this reservation is already being checked out under another Idempotency-Key');
  }
  const job: SettleJob = {
    rid: req.reservationId,
    saleId,
    userId: req.userId,
    orderId,
    productId: String(productId),
    quantity: Number(quantity),
    unitPriceCents: Number(unitPriceCents),
    paymentMethod,
    checkoutAt: Number(checkoutAt),
  };
  const orderStatus = statusOfHold[holdStatus] ?? 'pending';
  if (status === 'OK') await recordPending(ctx, job);
  if (orderStatus === 'pending') await enqueueSettlement(queue, ctx.config, job);
  return { orderId, status: orderStatus, created: status === 'OK' };
}

/** The shopper's view of an order in flight, until its row is written. */
export interface PendingOrder {
  id: string;
  status: 'pending';
  totalCents: number;
  items: Array<{ productId: string; quantity: number; unitPriceCents: number }>;
  createdAt: string;
}

async function recordPending(ctx: Context, job: SettleJob): Promise<void> {
  const view: PendingOrder = {
    id: job.orderId,
    status: 'pending',
    totalCents: job.quantity * job.unitPriceCents,
    items: [{ productId: String(job.productId), quantity: job.quantity, unitPriceCents: job.unitPriceCents }],
    createdAt: new Date(job.checkoutAt).toISOString(),
  };
  await ctx.redis.hset(pendingOrdersKey(ctx.config.redisPrefix, job.userId), job.orderId, JSON.stringify(view));
}
