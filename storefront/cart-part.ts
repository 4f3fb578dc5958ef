import { randomUUID } from 'node:crypto';
import type { Part } from '../infra/part.js';
import { cartRoutes } from './cart-routes.js';
import type { Context } from '../infra/context.js';
import { runWithLease } from '../infra/lease.js';
import { createPaymentProvider, type PaymentProvider } from '../settlement/index.js';
import { CartService, type CartOptions } from './cart/service.js';
import { CART_TOKEN_TTL_SECONDS, cartIdFromToken } from './cart/token.js';
import { Checkout } from './checkout.js';
import { storefrontApi } from './api.js';

export interface CartPartOptions {
  payments?: PaymentProvider;
  cart?: CartOptions;
  /** How often dirty carts are written to Postgres (ms). */
  flushIntervalMs?: number;
  /** How often checkouts stuck mid-saga are looked at (ms), and how old they must be. */
  recoverIntervalMs?: number;
  recoverAfterMs?: number;
}

/**
 * The storefront's cart part: cart and checkout routes, the cart, checkout and sign-in pages, the
 * anonymous-cart merge after login or register, and its background work (write-behind flush of carts, settling stuck checkouts).
 */
export function cartPart(ctx: Context, opts: CartPartOptions = {}): Part {
  const carts = new CartService(ctx, opts.cart);
  const payments = opts.payments ?? createPaymentProvider(ctx.config);
  const checkout = new Checkout(ctx, carts, payments);
  const log = ctx.log.child({ part: 'cart' });

  const mergeOnAuth = async (userId: string, headers: Record<string, string>) => {
    const cartId = cartIdFromToken(ctx.config, headers['x-cart-token']);
    if (!cartId) return; // no token, or a stale one: signing in never fails because of a cart
    try {
      const merged = await carts.mergeAnonymous(userId, cartId, Date.now() + CART_TOKEN_TTL_SECONDS * 1000);
      if (merged) log.debug({ userId, merged }, 'anonymous cart merged');
    } catch (err) {
      log.warn({ err, userId }, 'could not merge the anonymous cart');
    }
  };

  return {
    name: 'cart',
    routes: cartRoutes(ctx, carts, checkout),
    api: storefrontApi,
    pages: [
      { path: '/cart', script: 'cart', title: 'Your cart' },
      { path: '/checkout', script: 'checkout', title: 'Checkout' },
      { path: '/login', script: 'login', title: 'Sign in' },
      { path: '/register', script: 'login', title: 'Create an account' },
    ],
    afterAuth: [mergeOnAuth],
    start: async () => {
      const owner = randomUUID();
      const onError = (what: string) => (err: unknown) => log.warn({ err }, what);
      const stopFlush = runWithLease(ctx.redis, carts.store.keys.flushLease, owner, opts.flushIntervalMs ?? 1000, async () => {
        await carts.store.flushAll();
      }, onError('cart flush failed'));
      const stopRecover = runWithLease(ctx.redis, `${carts.store.keys.flushLease}:recover`, owner, opts.recoverIntervalMs ?? 30_000, async () => {
        await checkout.recoverStale(opts.recoverAfterMs ?? 120_000);
      }, onError('checkout recovery failed'));
      return async () => {
        await stopRecover();
        await stopFlush();
        await carts.store.flushAll().catch(onError('final cart flush failed'));
      };
    },
  };
}
