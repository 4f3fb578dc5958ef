/**
 * Redis keys of settlement. The hold's keys, `paying` and `sold` included, are the sale's (reservation's
 * saleKeys); the hold's payment transitions are reservation's scripts (beginCheckout, markSold,
 * failCheckout).
 *
 *   orders:pending:<userId>   hash  orderId -> JSON of an order whose payment is in flight, so
 *                                   GET /api/orders shows it before its Postgres row exists.
 * When an order settles the shopper is told through the waiting room's notifyUser (its `wr:user` channel
 * reaches their socket on whichever gateway holds it).
 */
export const pendingOrdersKey = (prefix: string, userId: string | number) => `${prefix}orders:pending:${userId}`;

/** BullMQ queue names (under the context's bull prefix). */
export const SETTLEMENT_QUEUE = 'settlement';
export const RECONCILE_QUEUE = 'reconcile';
