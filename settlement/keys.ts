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
 *   user:<userId>             channel: {"type":"order","orderId","status"} when an order settles (the
 *                                   waiting room's socket server forwards it to the shopper).
 */
export function settlementSaleKeys(prefix: string, saleId: string | number) {
  const k = saleKeys(prefix, saleId);
  return { ...k, paying: `${k.base}paying`, sold: `${k.base}sold` };
}

export type SettlementSaleKeys = ReturnType<typeof settlementSaleKeys>;

export const pendingOrdersKey = (prefix: string, userId: string | number) => `${prefix}orders:pending:${userId}`;

export const userChannel = (prefix: string, userId: string | number) => `${prefix}user:${userId}`;

/** BullMQ queue names (under the context's bull prefix). */
export const SETTLEMENT_QUEUE = 'settlement';
export const RECONCILE_QUEUE = 'reconcile';
