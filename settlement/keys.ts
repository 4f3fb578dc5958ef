import { saleKeys } from '../reservation/index.js';

/**
 * Redis keys settlement adds to the sale layout in reservation/keys.ts, and its own:
 *
 *   {sale:<id>}:paying        zset  rid -> checkout time (ms): holds in state `paying` (payment in flight).
 *                                   Reconciliation walks it to find checkouts left stuck by a crash.
 *   {sale:<id>}:sold          set   reservation ids of sold holds (reconciliation compares it with the
 *                                   paid orders in Postgres when the counts differ).
 *   orders:pending:<userId>   hash  orderId -> JSON of an order whose payment is in flight, so
 *                                   GET /api/orders shows it before its Postgres row exists.
 * When an order settles the shopper is told through the waiting room's notifyUser (its `wr:user` channel
 * reaches their socket on whichever gateway holds it).
 */
export function settlementSaleKeys(prefix: string, saleId: string | number) {
  const k = saleKeys(prefix, saleId);
  return { ...k, paying: `${k.base}paying`, sold: `${k.base}sold` };
}

export type SettlementSaleKeys = ReturnType<typeof settlementSaleKeys>;

export const pendingOrdersKey = (prefix: string, userId: string | number) => `${prefix}orders:pending:${userId}`;

/** BullMQ queue names (under the context's bull prefix). */
export const SETTLEMENT_QUEUE = 'settlement';
export const RECONCILE_QUEUE = 'reconcile';
