import { z } from 'zod';
import type { Context } from '../infra/context.js';
import { requireAdmin, requireUser } from '../infra/auth.js';
import { notFound } from '../infra/errors.js';
import { idempotencyKey, parseId, type Route } from '../infra/http.js';
import { checkout } from './checkout.js';
import { getOrder, listOrders, shipOrder } from './orders.js';
import { reconcileNow, type SettlementServices } from './services.js';

export const checkoutBody = z.object({ paymentMethod: z.string().min(1).max(100) });
export const listQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

/** Checkout of a hold, the shopper's orders, and the merchant's order and reconciliation actions. */
export function settlementRoutes(ctx: Context, services: SettlementServices): Route[] {
  return [
    {
      method: 'post',
      path: '/api/reservations/:id/checkout',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
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
        const userId = requireUser(ctx, req);
        const q = listQuery.parse(Object.fromEntries(req.query));
        return { status: 200, body: await listOrders(ctx, userId, q) };
      },
    },
    {
      method: 'get',
      path: '/api/orders/:id',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
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
        const saleId = parseId(req.params.id);
        if (!saleId) throw notFound('sale');
        return { status: 200, body: await reconcileNow(services, saleId) };
      },
    },
  ];
}
