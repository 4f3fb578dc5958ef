import type { Context } from '../infra/context.js';
import { failCheckout, markSold as markSoldScript, saleKeys } from '../reservation/index.js';
import { notifyUser } from '../waiting-room/index.js';
import { pendingOrdersKey } from './keys.js';
import { OrderRejectedError, type OrderRow, type OrderWriter } from './order-writer.js';
import { PaymentRequestError, type Charge, type PaymentProvider } from './payments.js';
import { runSaga, SagaAbort, type SagaResult, type SagaStep } from '../infra/saga.js';
import type { SoldMarker } from './sold-marker.js';

/** What a settlement job carries: everything needed to settle one checkout without reading the hold. */
export interface SettleJob {
  rid: string;
  saleId: string;
  userId: string;
  orderId: string;
  productId: string;
  quantity: number;
  unitPriceCents: number;
  paymentMethod: string;
  /** Checkout time (epoch ms). */
  checkoutAt: number;
}

export interface SettleDeps {
  ctx: Context;
  provider: PaymentProvider;
  writer: OrderWriter;
  /** Marks holds sold in batches (the worker's); without it each saga makes its own `mark-sold` call. */
  marker?: SoldMarker;
}

interface SettleState {
  job: SettleJob;
  /** This is the job's last attempt: an unknown payment outcome must now be decided. */
  finalAttempt: boolean;
  charge?: Charge;
}

export const amountOf = (job: SettleJob) => job.quantity * job.unitPriceCents;

export function orderRow(job: SettleJob, status: OrderRow['status'], payment: OrderRow['payment']): OrderRow {
  return {
    orderId: job.orderId,
    userId: job.userId,
    saleId: job.saleId,
    reservationId: job.rid,
    productId: job.productId,
    quantity: job.quantity,
    unitPriceCents: job.unitPriceCents,
    status,
    createdAt: job.checkoutAt,
    payment,
  };
}

/** Hold paying -> sold (idempotent). Returns the script's status for the hold. */
export async function markSold(ctx: Context, job: Pick<SettleJob, 'rid' | 'saleId'>): Promise<string> {
  const k = saleKeys(ctx.config.redisPrefix, job.saleId);
  const [status] = await markSoldScript(ctx.redis, k, [job.rid]);
  return status;
}

/** Hold paying -> released, units back to stock (idempotent; never releases a sold hold). */
export async function releaseHold(ctx: Context, job: Pick<SettleJob, 'rid' | 'saleId'>): Promise<string> {
  return failCheckout(ctx.redis, saleKeys(ctx.config.redisPrefix, job.saleId), job.rid);
}

/** Tells the shopper: an `order` message to their waiting-room socket on any gateway, and the pending entry gone. */
export async function notifyShopper(ctx: Context, job: Pick<SettleJob, 'userId' | 'orderId'>, status: 'paid' | 'failed'): Promise<void> {
  const { redisPrefix } = ctx.config;
  await Promise.all([
    notifyUser(ctx, job.userId, { type: 'order', orderId: job.orderId, status }),
    ctx.redis.hdel(pendingOrdersKey(redisPrefix, job.userId), job.orderId),
  ]);
}

/** Charges once per reservation; on the last attempt an unknown outcome is looked up by key, then decided. */
async function charge(deps: SettleDeps, s: SettleState): Promise<Charge> {
  const { job } = s;
  try {
    return await deps.provider.charge({
      idempotencyKey: job.rid,
      amountCents: amountOf(job),
      currency: 'usd',
      paymentMethod: job.paymentMethod,
      metadata: { orderId: job.orderId, reservationId: job.rid, userId: job.userId },
    });
  } catch (err) {
    // The PSP refused the request itself (e.g. an unknown payment method): nothing was charged.
    if (err instanceof PaymentRequestError) throw new SagaAbort('payment_rejected', err.message);
    if (!s.finalAttempt) throw err; // retried by the queue with backoff, under the same key
    const found = await deps.provider.findByKey(job.rid).catch((lookupErr: unknown) => {
      deps.ctx.log.warn({ err: lookupErr, rid: job.rid }, 'payment lookup failed on the last attempt');
      return null;
    });
    if (found) return found;
    deps.ctx.log.warn({ err, rid: job.rid }, 'payment outcome unknown after the last attempt; failing the order');
    throw new SagaAbort('payment_unknown', 'the payment provider did not answer');
  }
}

/**
 * The checkout saga, one step at a time. The hold was marked `paying` by the checkout request; that is
 * the first step, and undoing it (units back, order recorded `failed`) is what a declined card triggers.
 */
export function settlementSteps(deps: SettleDeps): SagaStep<SettleState>[] {
  const { ctx, writer, provider, marker } = deps;
  return [
    {
      name: 'hold',
      run: async () => {},
      compensate: async (s, abort) => {
        const status = abort.reason === 'payment_unknown' ? 'unknown' : abort.reason === 'order_rejected' ? 'refunded' : 'declined';
        const payment = { chargeId: s.charge?.id ?? null, status } as const;
        try {
          await writer.write(orderRow(s.job, 'failed', payment));
        } catch (err) {
          if (!(err instanceof OrderRejectedError)) throw err;
          ctx.log.error({ err, rid: s.job.rid }, 'failed order could not be recorded');
        }
        await releaseHold(ctx, s.job);
        await notifyShopper(ctx, s.job, 'failed');
      },
    },
    {
      name: 'charge',
      run: async (s) => {
        s.charge = await charge(deps, s);
        if (s.charge.status !== 'succeeded') throw new SagaAbort('declined', 'the card was declined');
      },
      compensate: async (s) => {
        if (s.charge?.status === 'succeeded') await provider.refund(s.charge.id, `refund:${s.job.rid}`);
      },
    },
    {
      name: 'write-order',
      run: async (s) => {
        try {
          await writer.write(orderRow(s.job, 'paid', { chargeId: s.charge!.id, status: 'succeeded' }));
        } catch (err) {
          if (err instanceof OrderRejectedError) throw new SagaAbort('order_rejected', err.message);
          throw err;
        }
      },
    },
    {
      name: 'mark-sold',
      run: async (s) => {
        const status = marker ? await marker.mark(s.job) : await markSold(ctx, s.job);
        // Never undo a committed paid order here: reconciliation reports the odd hold instead.
        if (status !== 'SOLD' && status !== 'ALREADY') ctx.log.error({ rid: s.job.rid, status }, 'paid order whose hold was not paying');
      },
    },
    { name: 'notify', run: (s) => notifyShopper(ctx, s.job, 'paid') },
  ];
}

export async function settle(deps: SettleDeps, job: SettleJob, finalAttempt: boolean, steps = settlementSteps(deps)): Promise<SagaResult> {
  return runSaga(steps, { job, finalAttempt });
}
