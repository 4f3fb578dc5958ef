import { Batcher } from '../infra/batch.js';
import type { Db } from '../infra/db.js';
import type { Logger } from '../infra/logger.js';

/**
 * One settled flash order as it is written: the order, its single item and its payment record.
 * `status` is the order's final status (`paid` or `failed`); the row is written once, keyed by its
 * reservation id (orders.reservation_id is UNIQUE), so a retried job never makes a second order.
 */
export interface OrderRow {
  orderId: string;
  userId: string;
  saleId: string;
  reservationId: string;
  productId: string;
  quantity: number;
  unitPriceCents: number;
  status: 'paid' | 'failed';
  /** When the shopper checked out (epoch ms): the order's created_at. */
  createdAt: number;
  payment: { chargeId: string | null; status: 'succeeded' | 'declined' | 'refunded' | 'unknown' };
}

export interface OrderWriterOptions {
  /** Most rows per INSERT. */
  maxBatch?: number;
  /** Batches being written at once (each holds one pooled connection). */
  maxInFlight?: number;
  /** How long the first row of a batch waits for company (ms). */
  lingerMs?: number;
}

/**
 * Orders, items and payment records in ONE statement (data-modifying CTEs run as one transaction), one
 * row per array element. `ON CONFLICT DO NOTHING` everywhere makes a replayed row a no-op.
 */
const INSERT_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::int[], $7::bigint[],
                       $8::text[], $9::timestamptz[], $10::text[], $11::text[])
    AS t(id, user_id, sale_id, reservation_id, product_id, quantity, unit_price_cents, status, created_at,
         charge_id, payment_status)
), o AS (
  INSERT INTO orders (id, user_id, total_cents, status, reservation_id, sale_id, created_at, updated_at)
  SELECT id, user_id, quantity * unit_price_cents, status, reservation_id, sale_id, created_at, now() FROM input
  ON CONFLICT (reservation_id) DO NOTHING
  RETURNING id
), i AS (
  INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
  SELECT id, product_id, quantity, unit_price_cents FROM input
  ON CONFLICT DO NOTHING
), p AS (
  INSERT INTO payments (idempotency_key, charge_id, order_id, amount_cents, status)
  SELECT reservation_id, charge_id, id, quantity * unit_price_cents, payment_status FROM input
  ON CONFLICT (idempotency_key) DO NOTHING
)
SELECT count(*)::int AS inserted FROM o`;

function params(rows: OrderRow[]): unknown[] {
  return [
    rows.map((r) => r.orderId),
    rows.map((r) => r.userId),
    rows.map((r) => r.saleId),
    rows.map((r) => r.reservationId),
    rows.map((r) => r.productId),
    rows.map((r) => r.quantity),
    rows.map((r) => r.unitPriceCents),
    rows.map((r) => r.status),
    rows.map((r) => new Date(r.createdAt).toISOString()),
    rows.map((r) => r.payment.chargeId),
    rows.map((r) => r.payment.status),
  ];
}

/** Postgres rejected the data itself (constraint, bad value): retrying the same row will not help. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('23') || code.startsWith('22'));
}

export class OrderRejectedError extends Error {}

/**
 * Group commit on the batching primitive: rows handed to `write` while a batch is being written are
 * collected and go to Postgres together in the next multi-row INSERT, so under load one round trip commits
 * hundreds of orders. A lone row waits `lingerMs` for company. Each `write` resolves once its row is
 * committed, or rejects if its batch failed (the caller's job is then retried). A batch that Postgres
 * rejects as data is retried row by row, so one bad row cannot hold back the others.
 */
export class OrderWriter {
  private readonly batcher: Batcher<OrderRow, void>;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    opts: OrderWriterOptions = {},
  ) {
    this.batcher = new Batcher(
      { maxSize: opts.maxBatch ?? 500, maxInFlight: opts.maxInFlight ?? 2, schedule: opts.lingerMs ?? 2 },
      (rows) => this.flush(rows),
    );
  }

  write(row: OrderRow): Promise<void> {
    return this.batcher.add(row);
  }

  /** Resolves once every row handed in so far has been written (or failed). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /** Writes one batch; answers per row: undefined once committed, or the error that row failed with. */
  private async flush(batch: OrderRow[]): Promise<Array<void | Error>> {
    // One row per reservation per statement (a replay in the same batch would be a no-op anyway).
    const byRid = new Map<string, number[]>();
    for (const [i, row] of batch.entries()) {
      const same = byRid.get(row.reservationId);
      if (same) same.push(i);
      else byRid.set(row.reservationId, [i]);
    }
    const rows = byRid.size === batch.length ? batch : [...byRid.values()].map((is) => batch[is[0]]);
    try {
      // A named (prepared) statement: Postgres parses and plans it once per connection, not once per batch.
      await this.db.query({ name: 'settlement-order-batch', text: INSERT_SQL, values: params(rows) });
      return batch.map(() => undefined);
    } catch (err) {
      if (!isDataError(err) || rows.length === 1) {
        if (!isDataError(err)) throw err;
        const failure = new OrderRejectedError((err as Error).message, { cause: err });
        return batch.map(() => failure);
      }
      this.log.warn({ err, rows: rows.length }, 'order batch rejected; writing its rows one by one');
      const answers: Array<void | Error> = batch.map(() => undefined);
      await Promise.all(
        [...byRid.values()].map(async (is) => {
          try {
            const [answer] = await this.flush([batch[is[0]]]);
            for (const i of is) answers[i] = answer;
          } catch (e) {
            const failure = e instanceof Error ? e : new Error(String(e));
            for (const i of is) answers[i] = failure;
          }
        }),
      );
      return answers;
    }
  }
}
