import { randomUUID } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { notFound } from '../infra/errors.js';
import { beginCheckout, saleIdOfReservation, saleKeys } from '../reservation/index.js';
import { pendingOrdersKey } from './keys.js';
import type { OrderStatus } from './order-status.js';
import type { CheckoutBatcher } from './checkout-batch.js';
import { enqueueSettlement, type SettlementQueue } from './queue.js';
import { STUCK_AFTER_MS } from './reconcile.js';
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

/** The order status a hold's state stands for. */
const statusOfHold: Record<string, OrderStatus> = { paying: 'pending', sold: 'paid', released: 'failed', expired: 'failed' };

/**
 * Starts paying for a hold: marks it `paying` atomically (begin-checkout Lua), records the pending order
 * for the shopper's order list, and enqueues the settlement job. Checkouts arriving together share one
 * job (checkout-batch.ts); the hold records that job's id. A retry with the same key returns the same
 * order; it re-enqueues the checkout only when its job is gone and the hold has been paying for longer
 * than reconciliation's stuck threshold (the first request died before enqueueing it), so a checkout
 * never has two live sagas.
 */
export async function checkout(
  { ctx, queue, checkouts }: { ctx: Context; queue: SettlementQueue; checkouts: CheckoutBatcher },
  req: CheckoutRequest,
  now = Date.now(),
): Promise<CheckoutResult> {
  const saleId = saleIdOfReservation(req.reservationId);
  if (!saleId) throw notFound('reservation');
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const batch = checkouts.join();
  let handedIn = false;
  try {
    const { status, orderId, quantity, unitPriceCents, productId, checkoutAt, holdStatus, paymentMethod, jobId } = await beginCheckout(ctx.redis, k, {
      rid: req.reservationId,
      userId: req.userId,
      nowMs: now,
      idempotencyKey: req.idempotencyKey,
      orderId: randomUUID(),
      paymentMethod: req.paymentMethod,
      jobId: batch.id,
    });
    const job: SettleJob = { rid: req.reservationId, saleId, userId: req.userId, orderId, productId, quantity, unitPriceCents, paymentMethod, checkoutAt };
    const orderStatus = statusOfHold[holdStatus] ?? 'pending';
    if (status === 'OK') {
      handedIn = true;
      await Promise.all([recordPending(ctx, job), batch.submit(job)]);
    } else if (orderStatus === 'pending') {
      await reenqueueIfLost(ctx, queue, job, jobId, now);
    }
    return { orderId, status: orderStatus, created: status === 'OK' };
  } finally {
    if (!handedIn) batch.withdraw();
  }
}

/** A replayed checkout still paying: enqueue it again only if its job is gone and it is old enough to be stuck. */
async function reenqueueIfLost(ctx: Context, queue: SettlementQueue, job: SettleJob, jobId: string, now: number): Promise<void> {
  // A hold settled by a job of its own (id = reservation id): adding it again is a no-op while it exists.
  if (jobId === job.rid) return enqueueSettlement(queue, ctx.config, job);
  if (now - job.checkoutAt < STUCK_AFTER_MS) return; // its batch may still be on its way to the queue
  const [batchJob, ownJob] = await Promise.all([queue.getJob(jobId), queue.getJob(job.rid)]);
  if (!batchJob && !ownJob) await enqueueSettlement(queue, ctx.config, job);
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
