import { z } from 'zod';
import type { Context } from '../infra/context.js';
import { requireUser } from '../infra/auth.js';
import { AppError, notFound } from '../infra/errors.js';
import { parseId, type Request, type Route } from '../infra/http.js';
import { checkAccountAge, getSale, saleEnded, takeAddressPlace, type Sale } from '../reservation/index.js';
import { queueSalesKey } from './keys.js';
import { checkPow } from './pow.js';
import { joinQueue } from './queue.js';

export const joinBody = z.object({ pow: z.string().max(64).optional() }).strict().optional();

/** Checks that the sale exists, has a waiting room, and is within its queue hours. */
async function queueSale(ctx: Context, req: Request): Promise<Sale> {
  const id = parseId(req.params.id);
  const sale = id && (await getSale(ctx, id));
  if (!sale) throw notFound('sale');
  if (!sale.waitingRoom) throw new AppError('no_waiting_room', 'this sale has no waiting room; reserve directly');
  return sale;
}


/**
 * The waiting room over plain HTTP, for clients without WebSocket: the same queue, the same place per user.
 * Poll GET more often than the disconnect grace period (DISCONNECT_GRACE_SECONDS), or the place is lost.
 */
export function waitingRoomRoutes(ctx: Context): Route[] {
  return [
    {
      method: 'post',
      path: '/api/sales/:id/queue',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
        const body = joinBody.parse(req.body);
        const ip = req.ip; // before the first await
        const sale = await queueSale(ctx, req);
        await checkAccountAge(ctx, sale, userId);
        if (saleEnded(sale)) throw new AppError('sale_closed', 'the sale has closed');
        if (Date.now() < sale.queueOpensAt.getTime()) throw new AppError('queue_not_open', `the queue opens at ${sale.queueOpensAt.toISOString()}`);
        if (!checkPow(sale.id, userId, body?.pow, sale.powDifficulty)) {
          throw new AppError(
            'pow_required',
            `proof of work required: send {"pow":"<nonce>"} where sha256("fs-pow:${sale.id}:${userId}:<nonce>") starts with ${sale.powDifficulty} zero bits`,
          );
        }
        await takeAddressPlace(ctx, sale, userId, ip);
        const [place] = await Promise.all([joinQueue(ctx, sale, userId, '', true), ctx.redis.sadd(queueSalesKey(ctx.config.redisPrefix), sale.id)]);
        if (place.kind === 'closed') throw new AppError('sale_closed', 'the sale has closed');
        return { status: 202, body: { ticket: place.ticket, position: place.position, etaSeconds: place.etaSeconds } };
      },
    },
    {
      method: 'get',
      path: '/api/sales/:id/queue',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
        const sale = await queueSale(ctx, req);
        const place = await joinQueue(ctx, sale, userId, '', false);
        switch (place.kind) {
          case 'closed':
            return { status: 200, body: { status: 'closed', position: null, etaSeconds: null } };
          case 'none':
            throw new AppError('not_found', 'you have no place in this queue; POST to join');
          case 'admitted':
            return {
              status: 200,
              body: { status: 'admitted', position: 0, etaSeconds: 0, admissionToken: place.admissionToken, admissionExpiresAt: place.admissionExpiresAt },
            };
          default:
            return {
              status: 200,
              body: { status: place.soldOut ? 'sold_out' : 'waiting', position: place.position, etaSeconds: place.etaSeconds },
            };
        }
      },
    },
  ];
}
