import { randomBytes } from 'node:crypto';
import { AppError } from '../../infra/errors.js';
import { signToken, verifyToken } from '../../infra/tokens.js';
import type { Config } from '../../infra/config.js';

/**
 * Anonymous cart tokens: an HMAC-signed random cart id (kind `cart`), so a client cannot guess or forge
 * another shopper's cart. The token lives a year; the cart behind it lives as long as its Redis TTL.
 */
const TOKEN_TTL_SECONDS = 365 * 24 * 3600;

export function issueCartToken(config: Config, nowMs = Date.now()): { cartId: string; token: string } {
  const cartId = randomBytes(16).toString('base64url');
  return { cartId, token: signToken({ k: 'cart', sub: cartId, exp: Math.floor(nowMs / 1000) + TOKEN_TTL_SECONDS }, config.tokenSecret) };
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
