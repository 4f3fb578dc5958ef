import { randomBytes } from 'node:crypto';
import { signToken, verifyToken, type TokenPayload } from '../infra/tokens.js';

/**
 * The admission token the waiting room hands an admitted shopper, and the reservation checks: it lives here,
 * with the check, so the waiting room depends on the reservation part and not the other way round.
 * HMAC-signed, bound to one user and one sale, expiring, and single use: its `jti` is written as a
 * marker by the reservation script ({sale:<id>}:admission:<jti>), which refuses a marker already there.
 */
export interface AdmissionClaims extends TokenPayload {
  k: 'adm';
  sub: string; // user id
  sale: string; // sale id
  jti: string;
  exp: number; // epoch seconds
}

export function issueAdmissionToken(
  secret: string,
  userId: string,
  saleId: string,
  windowSeconds: number,
  nowMs = Date.now(),
): { token: string; jti: string; expiresAt: string } {
  const exp = Math.floor(nowMs / 1000) + windowSeconds;
  const jti = randomBytes(12).toString('base64url');
  const token = signToken({ k: 'adm', sub: userId, sale: saleId, jti, exp } satisfies AdmissionClaims, secret);
  return { token, jti, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Returns the claims when the token is genuine, unexpired and bound to this user and sale; else null. */
export function verifyAdmissionToken(
  secret: string,
  token: string | undefined,
  userId: string,
  saleId: string,
  nowMs = Date.now(),
): AdmissionClaims | null {
  const claims = verifyToken<AdmissionClaims>(token, secret, 'adm', nowMs);
  if (!claims || claims.sub !== userId || claims.sale !== saleId || typeof claims.jti !== 'string') return null;
  return claims;
}
