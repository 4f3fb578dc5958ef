import { z } from 'zod';
import { optionalUser, requireUser } from '../infra/auth.js';
import type { Context } from '../infra/context.js';
import { invalid } from '../infra/errors.js';
import { idempotencyKey, parseId, type Reply, type Request, type Route } from '../infra/http.js';
import type { CartService } from './cart/service.js';
import type { CartRef } from './cart/store.js';
import { issueCartToken, requireCartToken } from './cart/token.js';
import type { Checkout } from './checkout.js';

export const quantityBody = z.object({ quantity: z.number().int().min(1).max(99) });

/** The quantity of a PUT body: a plain check for the usual good body, zod (and its 400) for anything else. */
function quantityOf(body: unknown): number {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const q = (body as { quantity?: unknown }).quantity;
    if (typeof q === 'number' && Number.isInteger(q) && q >= 1 && q <= 99) return q;
  }
  return quantityBody.parse(body).quantity;
}
export const cartCheckoutBody = z.object({ paymentMethod: z.string().trim().min(1).max(100) });

const jsonHeaders = { 'content-type': 'application/json' };

/** The product id of the path; the cart keeps ids as numbers, so it must also be a safe integer. */
function productIdOf(req: Request): number {
  const id = Number(parseId(req.params.productId));
  if (!Number.isSafeInteger(id) || id === 0) throw invalid('productId', 'must be a positive integer id');
  return id;
}

/**
 * Cart and regular checkout routes. A signed-in caller (Bearer token) uses their own cart; anyone else uses
 * the anonymous cart of their `X-Cart-Token`, and the first call without one gets a new token (header and
 * `cartToken` in the body). A malformed or forged cart token is a 400.
 */
export function cartRoutes(ctx: Context, carts: CartService, checkout: Checkout): Route[] {
  const whose = (req: Request): { ref: CartRef; token?: string } => {
    const userId = optionalUser(ctx.config, req);
    if (userId) return { ref: { kind: 'user', userId } };
    const given = req.headers['x-cart-token'];
    if (given !== undefined) return { ref: { kind: 'anon', cartId: requireCartToken(ctx.config, given) }, token: given };
    const fresh = issueCartToken(ctx.config);
    return { ref: { kind: 'anon', cartId: fresh.cartId }, token: fresh.token };
  };
  // The cart comes as JSON text (storefront/cart/view.ts), with `cartToken` in it for an anonymous cart.
  const reply = (json: string, token?: string): Reply => ({
    status: 200,
    raw: json,
    headers: token ? { 'content-type': 'application/json', 'x-cart-token': token } : jsonHeaders,
  });

  return [
    {
      method: 'get',
      path: '/api/cart',
      handler: (req) => {
        const { ref, token } = whose(req);
        return carts.view(ref, token).then((json) => reply(json, token));
      },
    },
    {
      method: 'put',
      path: '/api/cart/items/:productId',
      handler: (req) => {
        const { ref, token } = whose(req);
        const productId = productIdOf(req);
        return carts.setQuantity(ref, productId, quantityOf(req.body), token).then((json) => reply(json, token));
      },
    },
    {
      method: 'del',
      path: '/api/cart/items/:productId',
      handler: (req) => {
        const { ref, token } = whose(req);
        return carts.remove(ref, productIdOf(req), token).then((json) => reply(json, token));
      },
    },
    {
      method: 'post',
      path: '/api/checkout',
      handler: async (req) => {
        const userId = requireUser(ctx.config, req);
        const key = idempotencyKey(req);
        const { paymentMethod } = cartCheckoutBody.parse(req.body);
        const result = await checkout.checkout(userId, key, paymentMethod);
        return {
          status: 201,
          body: { orderId: result.orderId, status: result.status, totalCents: result.totalCents },
          headers: result.replayed ? { 'idempotent-replayed': 'true' } : undefined,
        };
      },
    },
  ];
}
