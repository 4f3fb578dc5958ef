import type { Context } from '../infra/context.js';

/**
 * A sale's order figures for the merchant console, from Postgres: paid (or shipped) and failed orders,
 * units in paid orders, and PSP declines (payment records of the sale's orders that the card network
 * declined).
 */
export async function orderFigures(ctx: Context, saleId: string) {
  const { rows } = await ctx.db.query<{ paid: number; paid_units: number; failed: number; declines: number }>(
    `SELECT count(*) FILTER (WHERE o.status IN ('paid', 'shipped'))::int AS paid,
            coalesce(sum(i.quantity) FILTER (WHERE o.status IN ('paid', 'shipped')), 0)::int AS paid_units,
            count(*) FILTER (WHERE o.status = 'failed')::int AS failed,
            count(*) FILTER (WHERE p.status = 'declined')::int AS declines
     FROM orders o
     LEFT JOIN order_items i ON i.order_id = o.id
     LEFT JOIN payments p ON p.order_id = o.id
     WHERE o.sale_id = $1`,
    [saleId],
  );
  const r = rows[0];
  return { paidOrders: r.paid, paidUnits: r.paid_units, failedOrders: r.failed, declines: r.declines };
}
