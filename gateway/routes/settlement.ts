import { z } from 'zod';
import type { Context } from '../../infra/context.js';
import { AppError, invalid } from '../../infra/errors.js';
import { checkout, getOrder, listOrders, reconcileNow, shipOrder, type SettlementServices } from '../../settlement/index.js';
import { requireAdmin, requireUser } from '../auth.js';
import type { Request, Route } from '../http.js';

const checkoutBody = z.object({ paymentMethod: z.string().min(1).max(100) });
const listQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function idempotencyKey(req: Request): string {
  const key = req.headers['idempotency-key'];
  if (key === undefined || key === '') throw invalid('Idempotency-Key', 'the header is required');
  if (!IDEMPOTENCY_KEY.test(key)) throw invalid('Idempotency-Key', 'must be 1 to 200 visible ASCII characters');
  return key;
}

/** Checkout of a hold, the shopper's orders, and the merchant's order and reconciliation actions. */
export function settlementRoutes(ctx: Context, services: SettlementServices): Route[] {
  return [
    {
      method: 'post',
      path: '/api/reservations/:id/checkout',
      handler: async (req) => {
        const userId = requireUser(ctx.config, req);
        const key = idempotencyKey(req);
        const { paymentMethod } = checkoutBody.parse(req.body);
        const r = await checkout(services, { reservationId: req.params.id, userId, idempotencyKey: key, paymentMethod });
        return {
          status: 202,
          body: { orderId: r.orderId, status: r.status },
          headers: r.created ? undefined : { 'idempotent-replayed': 'true' },
        };
      },
    },
    {
      method: 'get',
      path: '/api/orders',
      handler: async (req) => {
        const userId = requireUser(ctx.config, req);
        const q = listQuery.parse(Object.fromEntries(req.query));
        return { status: 200, body: await listOrders(ctx, userId, q) };
      },
    },
    {
      method: 'get',
      path: '/api/orders/:id',
      handler: async (req) => {
        const userId = requireUser(ctx.config, req);
        return { status: 200, body: await getOrder(ctx, userId, req.params.id) };
      },
    },
    {
      method: 'post',
      path: '/admin/orders/:id/ship',
      handler: async (req) => {
        requireAdmin(ctx.config, req);
        return { status: 200, body: await shipOrder(ctx, req.params.id) };
      },
    },
    {
      method: 'post',
      path: '/admin/sales/:id/reconcile',
      handler: async (req) => {
        requireAdmin(ctx.config, req);
        if (!/^\d{1,18}$/.test(req.params.id)) throw new AppError('not_found', 'sale not found');
        return { status: 200, body: await reconcileNow(services, req.params.id) };
      },
    },
  ];
}
