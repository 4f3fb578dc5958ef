import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.js';
import { signToken, verifyToken, type TokenPayload } from './tokens.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import type { Request } from './http.js';

/** What checking a shopper token needs: the secret, and the revoked sessions. */
export type AuthContext = Pick<Context, 'config' | 'sessions'>;

export interface UserClaims extends TokenPayload {
  k: string;
  exp: number;
  sub: string;
  /** Session id: what signing out revokes. */
  sid?: string;
  /** Issue time (ms): signing out everywhere voids every token issued before. */
  iat?: number;
}

/** Shopper tokens: HMAC-signed, expiring, revocable, sent as `Authorization: Bearer <token>`. */
export function issueUserToken(config: Config, userId: string | number, nowMs = Date.now()): string {
  const claims: UserClaims = { k: 'usr', sub: String(userId), exp: Math.floor(nowMs / 1000) + config.userTokenTtlSeconds, sid: randomBytes(12).toString('base64url'), iat: nowMs };
  return signToken(claims, config.tokenSecret);
}

/** The claims of a valid, unrevoked user token, or null. */
export function userClaims(ctx: AuthContext, token: string | undefined): UserClaims | null {
  const claims = verifyToken<UserClaims>(token, ctx.config.tokenSecret, 'usr');
  if (!claims || typeof claims.sub !== 'string') return null;
  return ctx.sessions.isRevoked(claims) ? null : claims;
}

export function bearer(req: Pick<Request, 'headers'>): string | undefined {
  const h = req.headers['authorization'];
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1] : undefined;
}

/** The user id a valid, unrevoked token proves, or null. */
export function userFromToken(ctx: AuthContext, token: string | undefined): string | null {
  return userClaims(ctx, token)?.sub ?? null;
}

/** The claims of the request's Bearer token; 401 when it is missing, bad, expired or signed out. */
export function requireClaims(ctx: AuthContext, req: Pick<Request, 'headers'>): UserClaims {
  const claims = userClaims(ctx, bearer(req));
  if (!claims) throw new AppError('unauthorized', 'a valid Bearer token is required');
  return claims;
}

export function requireUser(ctx: AuthContext, req: Pick<Request, 'headers'>): string {
  return requireClaims(ctx, req).sub;
}

/** Like requireUser, but an absent token is fine (null); a bad one is still 401. */
export function optionalUser(ctx: AuthContext, req: Pick<Request, 'headers'>): string | null {
  const token = bearer(req);
  if (!token) return null;
  return requireUser(ctx, req);
}

export function requireAdmin(config: Config, req: Pick<Request, 'headers'>): void {
  const given = Buffer.from(bearer(req) ?? '');
  const key = Buffer.from(config.adminApiKey);
  if (given.length !== key.length || !timingSafeEqual(given, key)) {
    throw new AppError('unauthorized', 'the admin API key is required as a Bearer token');
  }
}
