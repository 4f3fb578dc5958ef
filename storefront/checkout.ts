import { createHash, randomUUID } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { inTransaction, type DbClient } from '../infra/db.js';
import { AppError, type ErrorCode } from '../infra/errors.js';
import { release, tryAcquire } from '../infra/lease.js';
import { writeOutbox } from '../infra/outbox.js';
import { PaymentRequestError, PaymentTimeoutError, type Charge, type PaymentProvider } from '../settlement/index.js';
import { runSaga, SagaAbort, type SagaStep } from '../infra/saga.js';
import { checkoutStatus, type CheckoutStatus } from './checkout-status.js';
import type { CartService } from './cart/service.js';

/**
 * Regular (non-flash) checkout: a saga over Postgres stock, the PSP and the orders table.
 *
 *   1. take stock   decrement inventory with optimistic locking (version column, retried on conflict) and
 *                   write an outbox row per product, in one transaction with the `checkouts` row (reserved)
 *                   undo: give the stock back and mark the checkout failed (once: guarded by its status)
 *   2. charge       through the PaymentProvider, keyed `checkout:<checkoutId>` (a retry never charges twice)
 *                   undo: mark failed (as above), then refund
 *   3. order        one transaction: checkout completed, order (paid), items and the payment row
 *
 * Business failures (declined card) abort and compensate. Anything else (PSP or Postgres unreachable) leaves
 * the checkout `reserved`: a retry with the same Idempotency-Key resumes it, and `recoverStale` settles the
 * ones nobody retries from the PSP's record. The same key never makes a second order.
 */

export interface CheckoutItem {
  productId: number;
  quantity: number;
  unitPriceCents: number;
}

export interface CheckoutResult {
  orderId: string;
  status: 'paid';
  totalCents: number;
  /** True when this answers a repeated Idempotency-Key. */
  replayed: boolean;
}

interface SagaState {
  checkoutId: string;
  userId: string;
  idempotencyKey: string;
  paymentMethod: string;
  /** Cart lines going in; the priced items once stock is taken. */
  wanted: Array<[number, number]>;
  items: CheckoutItem[];
  totalCents: number;
  charge?: Charge;
  orderId?: string;
}

interface CheckoutRow {
  id: string;
  status: CheckoutStatus;
  items: CheckoutItem[];
  total_cents: number;
  payment_method: string;
  order_id: string | null;
  error_code: string | null;
  error_message: string | null;
}

export interface CheckoutOptions {
  /** Attempts of one optimistic stock update before giving up with 409 conflict. */
  stockAttempts?: number;
  /** How long the per-key lock lasts (ms); a crashed holder frees it after this. */
  lockMs?: number;
}

const pspKey = (checkoutId: string) => `checkout:${checkoutId}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Checkout {
  private stockAttempts: number;
  private lockMs: number;

  constructor(
    private ctx: Context,
    private carts: CartService,
    private payments: PaymentProvider,
    opts: CheckoutOptions = {},
  ) {
    this.stockAttempts = opts.stockAttempts ?? 100;
    this.lockMs = opts.lockMs ?? 60_000;
  }

  /** POST /api/checkout: buys the user's cart, once per Idempotency-Key. */
  async checkout(userId: string, idempotencyKey: string, paymentMethod: string): Promise<CheckoutResult> {
    const lockKey = this.carts.store.keys.checkoutLock(userId, createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 22));
    const owner = randomUUID();
    if (!(await tryAcquire(this.ctx.redis, lockKey, owner, this.lockMs))) {
      throw new AppError('idempotency_conflict', 'a checkout with this Idempotency-Key is already in progress');
    }
    try {
      const existing = await this.find(userId, idempotencyKey);
      if (existing) return await this.replayOrResume(userId, idempotencyKey, existing);
      return await this.checkoutCartOnce(userId, idempotencyKey, paymentMethod);
    } finally {
      await release(this.ctx.redis, lockKey, owner).catch(() => {});
    }
  }

  /**
   * A cart checks out once, whatever the Idempotency-Keys (two tabs each send their own): one checkout of a
   * user's cart runs at a time (the others get 409 checkout_in_progress), and a checkout of a cart that has
   * not changed since the last completed one answers that order (replayed) instead of buying it again.
   * `checkout:{u:<id>}:last` holds "<cart version before>,<version after>,<order id>,<total>" for an hour.
   */
  private async checkoutCartOnce(userId: string, idempotencyKey: string, paymentMethod: string): Promise<CheckoutResult> {
    const keys = this.carts.store.keys;
    const cartLock = keys.checkoutLock(userId, 'cart');
    const owner = randomUUID();
    if (!(await tryAcquire(this.ctx.redis, cartLock, owner, this.lockMs))) {
      throw new AppError('checkout_in_progress', 'this cart is being checked out already; wait for that order');
    }
    try {
      const [cart, last] = await Promise.all([this.carts.store.read({ kind: 'user', userId }), this.ctx.redis.get(keys.checkoutLock(userId, 'last'))]);
      if (last) {
        const [before, after, orderId, total] = last.split(',');
        if (String(cart.version) === before || String(cart.version) === after) return { orderId, status: 'paid', totalCents: Number(total), replayed: true };
      }
      if (cart.lines.size === 0) throw new AppError('invalid_state', 'the cart is empty');
      const state: SagaState = {
        checkoutId: randomUUID(),
        userId,
        idempotencyKey,
        paymentMethod,
        wanted: [...cart.lines].sort((a, b) => a[0] - b[0]),
        items: [],
        totalCents: 0,
      };
      return await this.run([this.takeStock, this.chargeStep, this.orderStep], state, cart.version);
    } finally {
      await release(this.ctx.redis, cartLock, owner).catch(() => {});
    }
  }

  private async find(userId: string, key: string): Promise<CheckoutRow | null> {
    const { rows } = await this.ctx.db.query<CheckoutRow>('SELECT * FROM checkouts WHERE user_id = $1 AND idempotency_key = $2', [userId, key]);
    return rows[0] ?? null;
  }

  private async replayOrResume(userId: string, key: string, row: CheckoutRow): Promise<CheckoutResult> {
    if (row.status === 'completed') return { orderId: row.order_id!, status: 'paid', totalCents: row.total_cents, replayed: true };
    if (row.status === 'failed') throw new AppError((row.error_code ?? 'conflict') as ErrorCode, row.error_message ?? 'this checkout failed');
    // Reserved: an earlier attempt stopped between steps. Stock is taken; finish from the charge on.
    const state: SagaState = {
      checkoutId: row.id,
      userId,
      idempotencyKey: key,
      paymentMethod: row.payment_method,
      wanted: [],
      items: row.items,
      totalCents: row.total_cents,
    };
    const result = await this.run([this.stockTaken, this.chargeStep, this.orderStep], state);
    return { ...result, replayed: true };
  }

  /** Runs the saga; `cartVersion` (a new checkout of the cart at that version) records it as the cart's last. */
  private async run(steps: SagaStep<SagaState>[], state: SagaState, cartVersion?: number): Promise<CheckoutResult> {
    let outcome;
    try {
      outcome = await runSaga(steps, state);
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.ctx.log.error({ err, checkoutId: state.checkoutId }, 'checkout interrupted; it resumes on retry');
      throw new AppError('unavailable', 'the checkout could not finish now; retry with the same Idempotency-Key');
    }
    if (outcome.outcome === 'compensated') {
      const abort = outcome.abort!;
      throw new AppError(abort.reason as ErrorCode, abort.message);
    }
    // The order exists; emptying the cart is best effort (the lines bought come off, newer ones stay).
    const after = await this.carts.store
      .subtract({ kind: 'user', userId: state.userId }, state.items.map((i) => [i.productId, i.quantity]))
      .catch((err) => this.ctx.log.warn({ err, userId: state.userId }, 'could not empty the cart after checkout'));
    if (cartVersion !== undefined) {
      const last = `${cartVersion},${after ? after.version : cartVersion},${state.orderId},${state.totalCents}`;
      await this.ctx.redis
        .set(this.carts.store.keys.checkoutLock(state.userId, 'last'), last, 'EX', 3600)
        .catch((err) => this.ctx.log.warn({ err, userId: state.userId }, 'could not record the cart checkout'));
    }
    return { orderId: state.orderId!, status: 'paid', totalCents: state.totalCents, replayed: false };
  }

  /** Step 1: the checkout row and the stock decrement, in one transaction. */
  private takeStock: SagaStep<SagaState> = {
    name: 'take stock',
    run: async (s) => {
      await inTransaction(this.ctx.db, async (c) => {
        const inserted = await c.query(
          `INSERT INTO checkouts (id, user_id, idempotency_key, status, payment_method) VALUES ($1, $2, $3, 'reserved', $4)
           ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id`,
          [s.checkoutId, s.userId, s.idempotencyKey, s.paymentMethod],
        );
        if (inserted.rowCount === 0) throw new AppError('idempotency_conflict', 'a checkout with this Idempotency-Key already exists');
        const { rows } = await c.query('SELECT id, price_cents FROM products WHERE id = ANY($1::bigint[])', [s.wanted.map(([id]) => id)]);
        const price = new Map<number, number>(rows.map((r) => [Number(r.id), r.price_cents]));
        s.items = [];
        for (const [productId, quantity] of s.wanted) {
          const unitPriceCents = price.get(productId);
          if (unitPriceCents === undefined) continue; // removed from the catalog: not shown in the cart either
          await this.decrement(c, productId, quantity);
          await writeOutbox(c, 'product', productId, { reason: 'checkout', delta: -quantity });
          s.items.push({ productId, quantity, unitPriceCents });
        }
        if (s.items.length === 0) throw new AppError('invalid_state', 'nothing in the cart can be bought');
        s.totalCents = s.items.reduce((n, i) => n + i.unitPriceCents * i.quantity, 0);
        await c.query('UPDATE checkouts SET items = $2, total_cents = $3 WHERE id = $1', [s.checkoutId, JSON.stringify(s.items), s.totalCents]);
      });
    },
    compensate: async (s, abort) => {
      await this.giveBack(s.checkoutId, abort);
    },
  };

  /** Step 1 when resuming: the stock was taken by the earlier attempt; its undo is the same. */
  private stockTaken: SagaStep<SagaState> = {
    name: 'stock taken',
    run: async () => {},
    compensate: async (s, abort) => {
      await this.giveBack(s.checkoutId, abort);
    },
  };

  /** Step 2: the charge. A declined card aborts; an unknown outcome propagates (the checkout stays reserved). */
  private chargeStep: SagaStep<SagaState> = {
    name: 'charge',
    run: async (s) => {
      const key = pspKey(s.checkoutId);
      let charge: Charge | null;
      try {
        charge = await this.payments.charge({
          idempotencyKey: key,
          amountCents: s.totalCents,
          paymentMethod: s.paymentMethod,
          metadata: { checkoutId: s.checkoutId, userId: s.userId },
        });
      } catch (err) {
        if (err instanceof PaymentRequestError) {
          // The PSP's own words stay in our log: they can name its internals or other customers' data.
          this.ctx.log.info({ checkoutId: s.checkoutId, psp: err.message }, 'the PSP refused the payment request');
          throw new SagaAbort('payment_declined', 'the payment was refused');
        }
        if (!(err instanceof PaymentTimeoutError)) throw err;
        charge = await this.payments.findByKey(key);
        if (!charge) throw err;
      }
      if (charge.status !== 'succeeded') {
        await this.ctx.db.query(
          `INSERT INTO payments (idempotency_key, charge_id, amount_cents, status) VALUES ($1, $2, $3, 'declined') ON CONFLICT DO NOTHING`,
          [key, charge.id, s.totalCents],
        );
        throw new SagaAbort('payment_declined', 'the payment was declined');
      }
      s.charge = charge;
    },
    compensate: async (s, abort) => {
      const status = await this.giveBack(s.checkoutId, abort);
      if (status === 'failed' && s.charge) await this.payments.refund(s.charge.id, `refund:${s.checkoutId}`);
    },
  };

  /** Step 3: the paid order, its items and the payment row; the checkout becomes completed. */
  private orderStep: SagaStep<SagaState> = {
    name: 'order',
    run: async (s) => {
      s.orderId = await inTransaction(this.ctx.db, async (c) => {
        const moved = await c.query('UPDATE checkouts SET status = $2, updated_at = now() WHERE id = $1 AND status = ANY($3)', [
          s.checkoutId,
          'completed',
          checkoutStatus.from('completed'),
        ]);
        if (moved.rowCount === 0) {
          const { rows } = await c.query('SELECT status, order_id FROM checkouts WHERE id = $1', [s.checkoutId]);
          if (rows[0]?.status === 'completed') return rows[0].order_id as string; // finished by a concurrent resume
          throw new Error(`checkout ${s.checkoutId} is ${rows[0]?.status ?? 'gone'}, not reserved`);
        }
        const order = await c.query(
          `INSERT INTO orders (user_id, total_cents, status, idempotency_key) VALUES ($1, $2, 'paid', $3) RETURNING id`,
          [s.userId, s.totalCents, s.idempotencyKey],
        );
        const orderId: string = order.rows[0].id;
        await c.query(
          `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
           SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::bigint[])`,
          [orderId, s.items.map((i) => i.productId), s.items.map((i) => i.quantity), s.items.map((i) => i.unitPriceCents)],
        );
        await c.query(
          `INSERT INTO payments (idempotency_key, charge_id, order_id, amount_cents, status) VALUES ($1, $2, $3, $4, 'succeeded')
           ON CONFLICT (idempotency_key) DO UPDATE SET charge_id = EXCLUDED.charge_id, order_id = EXCLUDED.order_id, status = 'succeeded', updated_at = now()`,
          [pspKey(s.checkoutId), s.charge!.id, orderId, s.totalCents],
        );
        await c.query('UPDATE checkouts SET order_id = $2 WHERE id = $1', [s.checkoutId, orderId]);
        return orderId;
      });
    },
  };

  /**
   * Optimistic stock decrement: read quantity and version, update only if the version is unchanged; on a
   * conflict read again (with a short jittered pause) and retry. Short stock is 409 out_of_stock.
   */
  private async decrement(c: DbClient, productId: number, quantity: number): Promise<void> {
    for (let attempt = 0; attempt < this.stockAttempts; attempt++) {
      const { rows } = await c.query('SELECT quantity, version FROM inventory WHERE product_id = $1', [productId]);
      if (!rows[0] || rows[0].quantity < quantity) {
        throw new AppError('out_of_stock', `product ${productId} has ${rows[0]?.quantity ?? 0} left, the cart wants ${quantity}`);
      }
      const updated = await c.query(
        'UPDATE inventory SET quantity = quantity - $2, version = version + 1 WHERE product_id = $1 AND version = $3',
        [productId, quantity, rows[0].version],
      );
      if (updated.rowCount === 1) return;
      await sleep(Math.random() * Math.min(1 + attempt, 10));
    }
    throw new AppError('conflict', `product ${productId} is in heavy demand; try again`);
  }

  /**
   * Undo of step 1: marks the checkout failed and returns its stock, once (only a `reserved` checkout moves
   * to `failed`). Returns the checkout's status afterwards.
   */
  private async giveBack(checkoutId: string, abort: SagaAbort | { reason: string; message: string }): Promise<CheckoutStatus> {
    return inTransaction(this.ctx.db, async (c) => {
      const { rows } = await c.query(
        `UPDATE checkouts SET status = $4, error_code = $2, error_message = $3, updated_at = now()
          WHERE id = $1 AND status = ANY($5) RETURNING items`,
        [checkoutId, abort.reason, abort.message, 'failed', checkoutStatus.from('failed')],
      );
      if (rows.length === 0) {
        const now = await c.query('SELECT status FROM checkouts WHERE id = $1', [checkoutId]);
        return (now.rows[0]?.status ?? 'failed') as CheckoutStatus;
      }
      const items: CheckoutItem[] = rows[0].items;
      for (const item of [...items].sort((a, b) => a.productId - b.productId)) {
        await c.query('UPDATE inventory SET quantity = quantity + $2, version = version + 1 WHERE product_id = $1', [item.productId, item.quantity]);
        await writeOutbox(c, 'product', item.productId, { reason: 'checkout_compensated', delta: item.quantity });
      }
      return 'failed';
    });
  }

  /**
   * Settles checkouts left `reserved` for longer than `olderThanMs` (the process died mid-saga and the
   * shopper never retried): the PSP's record decides. A succeeded charge gets its order; no charge, or a
   * declined one, gives the stock back. Nothing is charged here. Returns how many were settled.
   */
  async recoverStale(olderThanMs = 120_000, limit = 50): Promise<number> {
    const { rows } = await this.ctx.db.query(
      `SELECT c.*, c.user_id::text AS uid, c.idempotency_key AS ikey FROM checkouts c
        WHERE status = ANY($3) AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2`,
      [olderThanMs / 1000, limit, checkoutStatus.live],
    );
    let settled = 0;
    for (const row of rows) {
      const lockKey = this.carts.store.keys.checkoutLock(row.uid, createHash('sha256').update(row.ikey).digest('base64url').slice(0, 22));
      const owner = randomUUID();
      if (!(await tryAcquire(this.ctx.redis, lockKey, owner, this.lockMs))) continue;
      try {
        const charge = await this.payments.findByKey(pspKey(row.id));
        if (charge?.status === 'succeeded') {
          const state: SagaState = { checkoutId: row.id, userId: row.uid, idempotencyKey: row.ikey, paymentMethod: row.payment_method, wanted: [], items: row.items, totalCents: row.total_cents, charge };
          await this.orderStep.run(state);
        } else {
          await this.giveBack(row.id, { reason: 'payment_declined', message: 'the payment did not go through' });
        }
        settled++;
      } catch (err) {
        this.ctx.log.warn({ err, checkoutId: row.id }, 'could not settle a stale checkout yet');
      } finally {
        await release(this.ctx.redis, lockKey, owner).catch(() => {});
      }
    }
    return settled;
  }
}
