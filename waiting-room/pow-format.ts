/**
 * The proof-of-work format, shared by the server (waiting-room/pow.ts, node:crypto) and the queue page
 * (ui/lib/queue-pow.ts, @noble/hashes): no imports, so the browser bundle can take it as it is.
 *
 * The stamp is `fs-pow:<saleId>:<userId>:<nonce>`; it is good when SHA-256 of it (UTF-8) starts with at
 * least `difficulty` zero bits. The nonce is 1-64 characters of [A-Za-z0-9_-], chosen by the client (a
 * base-36 counter is fine).
 */
export const NONCE = /^[A-Za-z0-9_-]{1,64}$/;

export const powStamp = (saleId: string, userId: string, nonce: string) => `fs-pow:${saleId}:${userId}:${nonce}`;

export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}
