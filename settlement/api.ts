import { z } from 'zod';
import { cents, idString, idempotencyKeyHeader, isoTime, replayedHeader } from '../infra/api-schemas.js';
import type { ApiDocs } from '../infra/openapi.js';
import { checkoutBody, listQuery } from './routes.js';

const order = z.object({
  id: idString,
  status: z.enum(['pending', 'paid', 'failed', 'shipped', 'refunded']),
  totalCents: cents,
  items: z.array(z.object({ productId: idString, quantity: z.number().int(), unitPriceCents: cents })),
  createdAt: isoTime,
});

const reconciliation = z.looseObject({
  saleId: idString,
  checkedAt: isoTime,
  ok: z.boolean(),
  redis: z.object({ quantity: z.number().int(), remaining: z.number().int(), held: z.number().int(), sold: z.number().int(), paying: z.number().int() }),
  postgres: z.object({ paidOrders: z.number().int(), paidUnits: z.number().int() }),
  found: z.array(z.string()),
  mismatches: z.array(z.string()),
  repaired: z.array(z.object({ rid: idString, action: z.string() })),
});

/** Settlement's routes: checkout of a hold, order history, and the merchant's order and reconciliation actions. */
export const settlementApi: ApiDocs = {
  'POST /api/reservations/:id/checkout': {
    summary: 'Pay for a hold',
    description: 'Queues the checkout saga (charge, order, hold sold); the order status is `pending` until the worker settles it. The shopper is told on the waiting-room socket (`order` message).',
    tag: 'flash sale',
    auth: 'user',
    params: { id: 'the reservation id' },
    headers: [{ ...idempotencyKeyHeader, required: true }],
    body: checkoutBody,
    responses: { 202: { description: 'the order, pending', body: z.object({ orderId: idString, status: z.literal('pending') }), headers: replayedHeader } },
    errors: ['invalid_request', 'unauthorized', 'not_found', 'hold_expired', 'idempotency_conflict', 'invalid_state'],
  },
  'GET /api/orders': {
    summary: "The caller's orders, newest first",
    tag: 'orders',
    auth: 'user',
    query: listQuery,
    responses: { 200: { description: 'a page of orders', body: z.object({ orders: z.array(order), nextCursor: z.string().nullable() }) } },
    errors: ['invalid_request', 'unauthorized'],
  },
  'GET /api/orders/:id': {
    summary: 'One of the caller’s orders',
    tag: 'orders',
    auth: 'user',
    params: { id: 'the order id' },
    responses: { 200: { description: 'the order', body: order } },
    errors: ['unauthorized', 'not_found'],
  },
  'POST /admin/orders/:id/ship': {
    summary: 'Mark a paid order shipped',
    tag: 'merchant',
    auth: 'admin',
    params: { id: 'the order id' },
    responses: { 200: { description: 'the order, shipped', body: order } },
    errors: ['unauthorized', 'not_found', 'invalid_state'],
  },
  'POST /admin/sales/:id/reconcile': {
    summary: 'Reconcile a sale now',
    description: 'Compares Redis with Postgres and the PSP, repairs what it can, and answers the report (also kept as the sale’s `stats.reconciliation`).',
    tag: 'merchant',
    auth: 'admin',
    params: { id: 'the sale id' },
    responses: { 200: { description: 'the reconciliation report', body: reconciliation } },
    errors: ['unauthorized', 'not_found'],
  },
};
