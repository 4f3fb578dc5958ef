import { randomBytes } from 'node:crypto';
import { AppError } from '../../infra/errors.js';
import { signToken, verifyToken } from '../../infra/tokens.js';
import type { Config } from '../../infra/config.js';

/**
 * Anonymous cart tokens: an HMAC-signed random cart id (kind `cart`), so a client cannot guess or forge
 * another shopper's cart. A token lives 30 days and every answer about the cart carries a fresh one (the
 * client keeps the last), while the cart behind it lives 7 days after its last use. A merged cart's token is
 * void (storefront/cart/service.ts), and that mark need only outlive the token.
 */
export const CART_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export function issueCartToken(config: Config, nowMs = Date.now()): { cartId: string; token: string } {
  const cartId = randomBytes(16).toString('base64url');
  return { cartId, token: cartTokenFor(config, cartId, nowMs) };
}

/** A fresh token for an existing anonymous cart. */
export function cartTokenFor(config: Config, cartId: string, nowMs = Date.now()): string {
  return signToken({ k: 'cart', sub: cartId, exp: Math.floor(nowMs / 1000) + CART_TOKEN_TTL_SECONDS }, config.tokenSecret);
}

/** The cart id a token proves, or null when the token is malformed, forged or expired. */
export function cartIdFromToken(config: Config, token: string | undefined): string | null {
  const claims = verifyToken<{ k: string; exp: number; sub: string }>(token, config.tokenSecret, 'cart');
  return claims && typeof claims.sub === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(claims.sub) ? claims.sub : null;
}

/** Like cartIdFromToken, but a token that is present and bad is a 400 (the client should drop it). */
export function requireCartToken(config: Config, token: string): string {
  const cartId = cartIdFromToken(config, token);
  if (!cartId) throw new AppError('invalid_request', 'X-Cart-Token is not a valid cart token; drop it and start a new cart', 'x-cart-token');
  return cartId;
}
