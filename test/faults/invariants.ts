import type { Context } from '../../infra/context.js';
import type { PaymentProvider } from '../../settlement/payments.js';

/**
 * The invariants every fault scenario ends with, read from Postgres and from the PSP's own ledger (each
 * acknowledged reservation's charge, looked up by its key), never from Redis, which is what failed.
 */
export interface SaleFigures {
  scenario: string;
  /** Reservations answered 201 to a shopper. */
  acknowledged: number;
  /** Of those, how many Redis still knows after the fault (filled in by the scenario when it checks). */
  presentAfter?: number;
  paidOrders: number;
  paidUnits: number;
  quantity: number;
  /** Charges that succeeded at the PSP for the sale's reservations, and how many of those were refunded. */
  charges: number;
  refunds: number;
  oversold: number;
  /** Paid orders whose charge was refunded (must be 0). */
  paidRefunded: number;
  /** Succeeded, unrefunded charges with no paid order (must be 0 once settled). */
  chargesWithoutOrder: number;
  /** Paid orders of a reservation acknowledged to another shopper (must be 0). */
  heldByTwo: number;
  recoveryMs?: number;
}

async function inChunks<T, R>(items: T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** `acknowledged`: reservation id -> the user it was acknowledged to. */
export async function saleFigures(ctx: Context, provider: PaymentProvider, saleId: string, acknowledged: Map<string, string>, scenario: string): Promise<SaleFigures> {
  const [{ rows: sale }, { rows: orders }] = await Promise.all([
    ctx.db.query<{ quantity: number }>('SELECT quantity FROM sales WHERE id = $1', [saleId]),
    ctx.db.query<{ reservation_id: string; user_id: number; units: number }>(
      `SELECT o.reservation_id, o.user_id, COALESCE(sum(i.quantity), 0)::int AS units FROM orders o
       LEFT JOIN order_items i ON i.order_id = o.id WHERE o.sale_id = $1 AND o.status IN ('paid', 'shipped')
       GROUP BY o.id`,
      [saleId],
    ),
  ]);
  const paid = new Map(orders.map((o) => [o.reservation_id, o]));
  const rids = [...new Set([...acknowledged.keys(), ...paid.keys()])];
  const charges = await inChunks(rids, 50, (rid) => provider.findByKey(rid));
  let succeeded = 0;
  let refunds = 0;
  let paidRefunded = 0;
  let chargesWithoutOrder = 0;
  rids.forEach((rid, i) => {
    const c = charges[i];
    if (c?.status !== 'succeeded') return;
    succeeded++;
    if (c.refunded) refunds++;
    if (c.refunded && paid.has(rid)) paidRefunded++;
    if (!c.refunded && !paid.has(rid)) chargesWithoutOrder++;
  });
  const paidUnits = orders.reduce((n, o) => n + o.units, 0);
  const quantity = sale[0].quantity;
  return {
    scenario,
    acknowledged: acknowledged.size,
    paidOrders: orders.length,
    paidUnits,
    quantity,
    charges: succeeded,
    refunds,
    oversold: Math.max(0, paidUnits - quantity),
    paidRefunded,
    chargesWithoutOrder,
    heldByTwo: orders.filter((o) => acknowledged.has(o.reservation_id) && acknowledged.get(o.reservation_id) !== String(o.user_id)).length,
  };
}

/** Prints one scenario's figures (the fault suite's report) and returns them. */
export function report(f: SaleFigures): SaleFigures {
  console.log(`[fault figures] ${JSON.stringify(f)}`);
  return f;
}
