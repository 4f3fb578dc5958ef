import { timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.js';
import { signToken, verifyToken } from './tokens.js';
import type { Config } from './config.js';
import type { Request } from './http.js';

/** Shopper tokens: HMAC-signed, expiring, sent as `Authorization: Bearer <token>`. */
export function issueUserToken(config: Config, userId: string | number, nowMs = Date.now()): string {
  return signToken({ k: 'usr', sub: String(userId), exp: Math.floor(nowMs / 1000) + config.userTokenTtlSeconds }, config.tokenSecret);
}

export function bearer(req: Pick<Request, 'headers'>): string | undefined {
  const h = req.headers['authorization'];
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1] : undefined;
}

/** The user id a token proves, or null. */
export function userFromToken(config: Config, token: string | undefined): string | null {
  const claims = verifyToken<{ k: string; exp: number; sub: string }>(token, config.tokenSecret, 'usr');
  return claims && typeof claims.sub === 'string' ? claims.sub : null;
}

export function requireUser(config: Config, req: Pick<Request, 'headers'>): string {
  const userId = userFromToken(config, bearer(req));
  if (!userId) throw new AppError('unauthorized', 'a valid Bearer token is required');
  return userId;
}

/** Like requireUser, but an absent token is fine (null); a bad one is still 401. */
export function optionalUser(config: Config, req: Pick<Request, 'headers'>): string | null {
  const token = bearer(req);
  if (!token) return null;
  return requireUser(config, req);
}

export function requireAdmin(config: Config, req: Pick<Request, 'headers'>): void {
  const given = Buffer.from(bearer(req) ?? '');
  const key = Buffer.from(config.adminApiKey);
  if (given.length !== key.length || !timingSafeEqual(given, key)) {
    throw new AppError('unauthorized', 'the admin API key is required as a Bearer token');
  }
}
