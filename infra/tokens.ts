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

/**
 * Tokens whose signature has been checked, so a shopper's token costs one HMAC, not one per request.
 * Bounded (the oldest entry goes first); kind and expiry are still checked on every use, and an entry only
 * counts for the secret it was checked with.
 */
const verified = new Map<string, { secret: string; payload: TokenPayload }>();
const VERIFIED_MAX = 20_000;

const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

function checkSignature(token: string, secret: string): TokenPayload | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const body = token.slice(0, dot);
  // Only the canonical spelling of the signature counts: unpadded base64url of exactly 32 bytes, whose last
  // character carries no stray bits. Node's decoder would also take `=` padding, the `+/` alphabet and
  // non-zero trailing bits, which gives one token several spellings.
  const sigText = token.slice(dot + 1);
  if (!SIGNATURE.test(sigText)) return null;
  const sig = Buffer.from(sigText, 'base64url');
  if (sig.toString('base64url') !== sigText) return null;
  const expected = mac(secret, body);
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return null;
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' ? Object.freeze(payload) : null;
  } catch {
    return null;
  }
}

/** Returns the payload, or null when the token is malformed, forged, of another kind or expired. */
export function verifyToken<T extends TokenPayload>(token: string | undefined, secret: string, kind: string, nowMs = Date.now()): T | null {
  if (!token || token.length > 2048) return null;
  const hit = verified.get(token);
  let payload = hit && hit.secret === secret ? hit.payload : null;
  if (!payload) {
    payload = checkSignature(token, secret);
    if (!payload) return null;
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { secret, payload });
  }
  if (payload.k !== kind || typeof payload.exp !== 'number') return null;
  if (payload.exp * 1000 <= nowMs) return null;
  return payload as T;
}
