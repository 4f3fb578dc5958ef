import { z } from 'zod';
import { optionalUser, requireUser } from '../infra/auth.js';
import type { Context } from '../infra/context.js';
import { AppError, invalid } from '../infra/errors.js';
import { idempotencyKey, parseId, type Reply, type Request, type Route } from '../infra/http.js';
import { Throttle } from '../infra/throttle.js';
import type { CartService } from './cart/service.js';
import type { CartRef } from './cart/store.js';
import { cartTokenFor, issueCartToken, requireCartToken } from './cart/token.js';
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
 * the anonymous cart of their `X-Cart-Token`. An anonymous cart (and its token) is made only when a line is
 * first added, at most `anonCartsPerIpPerHour` per client address (429 beyond); reading or removing without
 * a token answers an empty cart and makes nothing. Every answer about an anonymous cart carries a fresh
 * token (header and `cartToken` in the body). A malformed or forged token, or one whose cart was merged into
 * an account at sign-in, is a 400 (the client drops it).
 */
export function cartRoutes(ctx: Context, carts: CartService, checkout: Checkout, throttle = new Throttle(ctx)): Route[] {
  ctx.onClose(() => throttle.close());
  /** The caller's cart; null for an anonymous caller without a token. */
  const whose = (req: Request): { ref: CartRef; token?: string } | null => {
    const userId = optionalUser(ctx, req);
    if (userId) return { ref: { kind: 'user', userId } };
    const given = req.headers['x-cart-token'];
    if (given === undefined) return null;
    const cartId = requireCartToken(ctx.config, given);
    return { ref: { kind: 'anon', cartId }, token: cartTokenFor(ctx.config, cartId) };
  };
  /** Refuses the token of a merged cart (a user's cart needs no look). */
  const live = async (cart: { ref: CartRef }) => {
    if (cart.ref.kind === 'anon' && (await carts.merged(cart.ref.cartId))) {
      throw new AppError('invalid_request', 'X-Cart-Token: this cart was merged into an account at sign-in; drop the token', 'x-cart-token');
    }
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
      handler: async (req) => {
        const cart = whose(req);
        if (!cart) {
          // A first look: a token to use from now on (signed, nothing stored); the cart itself is made, and
          // counted against the per-address limit, when a line is first added without a token.
          const fresh = issueCartToken(ctx.config);
          return reply(carts.empty(fresh.token), fresh.token);
        }
        await live(cart);
        return reply(await carts.view(cart.ref, cart.token), cart.token);
      },
    },
    {
      method: 'put',
      path: '/api/cart/items/:productId',
      handler: async (req) => {
        let cart = whose(req);
        const productId = productIdOf(req);
        const quantity = quantityOf(req.body);
        if (!cart) {
          await throttle.anonCart(req.ip);
          const fresh = issueCartToken(ctx.config);
          cart = { ref: { kind: 'anon', cartId: fresh.cartId }, token: fresh.token };
        } else await live(cart);
        return reply(await carts.setQuantity(cart.ref, productId, quantity, cart.token), cart.token);
      },
    },
    {
      method: 'del',
      path: '/api/cart/items/:productId',
      handler: async (req) => {
        const cart = whose(req);
        const productId = productIdOf(req);
        if (!cart) return reply(carts.empty());
        await live(cart);
        return reply(await carts.remove(cart.ref, productId, cart.token), cart.token);
      },
    },
    {
      method: 'post',
      path: '/api/checkout',
      handler: async (req) => {
        const userId = requireUser(ctx, req);
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
