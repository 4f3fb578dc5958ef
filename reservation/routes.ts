import { z } from 'zod';
import type { Context } from '../infra/context.js';
import { requireUser } from '../infra/auth.js';
import { notFound } from '../infra/errors.js';
import { idempotencyKey, parseId, type Route } from '../infra/http.js';
import type { ReserveBatcher } from './batcher.js';
import { getHold, releaseHold, reserve } from './reservations.js';
import { getSale, publicSaleView } from './sales.js';

export const reserveBody = z.object({ quantity: z.number().int().min(1).max(10_000) });

/** Shopper API: the public sale view, reserving (a hold), looking at and releasing a hold. */
export function reservationRoutes(ctx: Context, batcher: ReserveBatcher): Route[] {
  return [
    {
      method: 'get',
      path: '/api/sales/:id',
      handler: async (req) => {
        const id = parseId(req.params.id);
        const sale = id && (await getSale(ctx, id));
        if (!sale) throw notFound('sale');
        return { status: 200, body: await publicSaleView(ctx, sale) };
      },
    },
    {
      method: 'post',
      path: '/api/sales/:id/reservations',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
        const { quantity } = reserveBody.parse(req.body);
        const saleId = parseId(req.params.id);
        if (!saleId) throw notFound('sale');
        const r = await reserve(ctx, batcher, {
          saleId,
          userId,
          quantity,
          idempotencyKey: idempotencyKey(req, 'optional'),
          admissionToken: req.headers['admission-token'],
          ip: req.ip,
        });
        return {
          status: 201,
          body: { reservationId: r.reservationId, quantity: r.quantity, expiresAt: r.expiresAt },
          headers: r.replayed ? { 'idempotent-replayed': 'true' } : undefined,
        };
      },
    },
    {
      method: 'get',
      path: '/api/reservations/:id',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
        const hold = await getHold(ctx, req.params.id, userId);
        if (!hold) throw notFound('reservation');
        return { status: 200, body: hold };
      },
    },
    {
      method: 'del',
      path: '/api/reservations/:id',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
        return { status: 200, body: await releaseHold(ctx, req.params.id, userId) };
      },
    },
  ];
}
