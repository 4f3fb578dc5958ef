import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compact HMAC-SHA256 signed tokens: base64url(JSON payload) "." base64url(signature).
 * Every payload carries a kind `k` (so a user token is never accepted as an admission token) and `exp`
 * in epoch seconds.
 */
export interface TokenPayload {
  k: string;
  exp: number;
  [claim: string]: unknown;
}

function mac(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signToken(payload: TokenPayload, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** Returns the payload, or null when the token is malformed, forged, of another kind or expired. */
export function verifyToken<T extends TokenPayload>(token: string | undefined, secret: string, kind: string, nowMs = Date.now()): T | null {
  if (!token || token.length > 2048) return null;
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const body = token.slice(0, dot);
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(secret, body);
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return null;
  let payload: T;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!payload || payload.k !== kind || typeof payload.exp !== 'number') return null;
  if (payload.exp * 1000 <= nowMs) return null;
  return payload;
}
