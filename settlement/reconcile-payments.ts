import type { Context } from '../infra/context.js';
import type { PaymentProvider } from './payments.js';

/**
 * The payment side of reconciliation, read from the PSP's own record of each charge:
 * - payments of failed orders whose outcome was unknown, walked with a cursor (every one, every run) and
 *   looked up in parallel (at most `parallel` at once): a charge that went through is refunded; a decline is
 *   recorded; no charge found after `finalLookups` lookups over at least `finalAfterMs` is final
 *   (`not_charged`), so a payment is never looked at forever;
 * - paid orders, `paidChecks` per run from a cursor kept per sale (it wraps round): a paid order whose charge
 *   was refunded, or that has no succeeded charge at all, is drift only a person can settle, and is listed.
 */
export interface PaymentCheckOptions {
  parallel?: number;
  finalLookups?: number;
  finalAfterMs?: number;
  paidChecks?: number;
  /** Rows per page of the unknown-payment cursor. */
  pageSize?: number;
}

export interface PaymentDrift {
  /** Unknown payments looked at this run. */
  unknownChecked: number;
  /** ...of which the PSP had charged: refunded now. */
  unknownRefunded: number;
  /** ...declined at the PSP: recorded. */
  unknownDeclined: number;
  /** ...no charge found for long enough: final `not_charged`. */
  unknownNotCharged: number;
  /** ...still unknown (not found yet, or the PSP did not answer). */
  unknownLeft: number;
  paidChecked: number;
  paidRefunded: number;
  paidWithoutCharge: number;
}

export interface PaymentCheck {
  drift: PaymentDrift;
  repaired: Array<{ rid: string; action: 'refunded' | 'declined_recorded' | 'not_charged' }>;
  /** Drift left for a person, one line each. */
  unrepaired: string[];
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function bounded<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export async function checkPayments(ctx: Context, provider: PaymentProvider, saleId: string, cursorKey: string, opts: PaymentCheckOptions = {}): Promise<PaymentCheck> {
  const parallel = opts.parallel ?? 16;
  const finalLookups = opts.finalLookups ?? 5;
  const finalAfterMs = opts.finalAfterMs ?? 10 * 60_000;
  const pageSize = opts.pageSize ?? 200;
  const drift: PaymentDrift = { unknownChecked: 0, unknownRefunded: 0, unknownDeclined: 0, unknownNotCharged: 0, unknownLeft: 0, paidChecked: 0, paidRefunded: 0, paidWithoutCharge: 0 };
  const repaired: PaymentCheck['repaired'] = [];
  const unrepaired: string[] = [];

  let cursor = '';
  for (;;) {
    const { rows } = await ctx.db.query<{ key: string; lookups: number; first: Date | null }>(
      `SELECT p.idempotency_key AS key, p.lookups, p.first_lookup_at AS first FROM payments p JOIN orders o ON o.id = p.order_id
       WHERE o.sale_id = $1 AND p.status = 'unknown' AND o.status = 'failed' AND p.idempotency_key > $2
       ORDER BY p.idempotency_key LIMIT $3`,
      [saleId, cursor, pageSize],
    );
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1].key;
    await bounded(rows, parallel, async (row) => {
      drift.unknownChecked++;
      let charge;
      try {
        charge = await provider.findByKey(row.key);
      } catch (err) {
        drift.unknownLeft++; // the PSP did not answer: not a lookup, asked again next run
        ctx.log.warn({ err, rid: row.key }, 'reconciliation could not look a payment up');
        return;
      }
      if (charge) {
        if (charge.status === 'succeeded' && !charge.refunded) await provider.refund(charge.id, `refund:${row.key}`);
        const status = charge.status === 'succeeded' ? 'refunded' : 'declined';
        await ctx.db.query(`UPDATE payments SET status = $2, charge_id = $3, updated_at = now() WHERE idempotency_key = $1`, [row.key, status, charge.id]);
        if (status === 'refunded') {
          drift.unknownRefunded++;
          repaired.push({ rid: row.key, action: 'refunded' });
        } else {
          drift.unknownDeclined++;
          repaired.push({ rid: row.key, action: 'declined_recorded' });
        }
        return;
      }
      const { rows: after } = await ctx.db.query<{ status: string }>(
        `UPDATE payments SET lookups = lookups + 1, first_lookup_at = COALESCE(first_lookup_at, now()), updated_at = now(),
           status = CASE WHEN lookups + 1 >= $2 AND now() - COALESCE(first_lookup_at, now()) >= make_interval(secs => $3::float8 / 1000)
                         THEN 'not_charged' ELSE status END
         WHERE idempotency_key = $1 RETURNING status`,
        [row.key, finalLookups, finalAfterMs],
      );
      if (after[0]?.status === 'not_charged') {
        drift.unknownNotCharged++;
        repaired.push({ rid: row.key, action: 'not_charged' });
      } else drift.unknownLeft++;
    });
  }

  // Paid orders, a slice per run from the sale's cursor.
  const from = (await ctx.redis.get(cursorKey)) ?? '';
  const paidChecks = opts.paidChecks ?? 500;
  let { rows: paid } = await ctx.db.query<{ rid: string }>(
    `SELECT reservation_id AS rid FROM orders WHERE sale_id = $1 AND status IN ('paid', 'shipped') AND reservation_id > $2 ORDER BY reservation_id LIMIT $3`,
    [saleId, from, paidChecks],
  );
  if (paid.length === 0 && from !== '') {
    ({ rows: paid } = await ctx.db.query<{ rid: string }>(
      `SELECT reservation_id AS rid FROM orders WHERE sale_id = $1 AND status IN ('paid', 'shipped') ORDER BY reservation_id LIMIT $2`,
      [saleId, paidChecks],
    ));
  }
  await bounded(paid, parallel, async ({ rid }) => {
    const charge = await provider.findByKey(rid).catch(() => undefined);
    if (charge === undefined) return; // no answer: next time
    drift.paidChecked++;
    if (!charge || charge.status !== 'succeeded') {
      drift.paidWithoutCharge++;
      unrepaired.push(`paid order of reservation ${rid} has no succeeded charge at the PSP`);
    } else if (charge.refunded) {
      drift.paidRefunded++;
      unrepaired.push(`paid order of reservation ${rid} was refunded at the PSP (charge ${charge.id})`);
    }
  });
  // A full slice: the next run goes on after it; the end reached: the next run starts again from the top.
  await ctx.redis.set(cursorKey, paid.length === paidChecks ? paid[paid.length - 1].rid : '');
  return { drift, repaired, unrepaired };
}
