import { createHash } from 'node:crypto';

/**
 * Proof of work on join, hashcash style: a bot brake for sales with `powDifficulty` > 0.
 *
 * The stamp is `fs-pow:<saleId>:<userId>:<nonce>`; it is good when SHA-256 of it (UTF-8) starts with at
 * least `difficulty` zero bits. The nonce is 1-64 characters of [A-Za-z0-9_-], chosen by the client (a
 * base-36 counter is fine). The queue page (ui/lib/queue-pow.ts) computes the same in the browser, and
 * ui/lib/queue-state.test.ts checks that this function accepts what it finds.
 *
 * The stamp binds the work to one sale and one user, so it cannot be bought once and shared; the same
 * stamp may be sent again on a reconnect. Each extra bit doubles the expected work: 2^difficulty hashes on
 * average (16 bits is about 65k hashes, well under a second in a browser).
 */
const NONCE = /^[A-Za-z0-9_-]{1,64}$/;

const powStamp = (saleId: string, userId: string, nonce: string) => `fs-pow:${saleId}:${userId}:${nonce}`;

function leadingZeroBits(digest: Uint8Array): number {
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

export function checkPow(saleId: string, userId: string, nonce: string | undefined | null, difficulty: number): boolean {
  if (difficulty <= 0) return true;
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) return false;
  return leadingZeroBits(createHash('sha256').update(powStamp(saleId, userId, nonce)).digest()) >= difficulty;
}

/** Finds a nonce by counting (what a client does; used by tests and the benchmark). */
export function solvePow(saleId: string, userId: string, difficulty: number): string {
  for (let i = 0; ; i++) {
    const nonce = i.toString(36);
    if (checkPow(saleId, userId, nonce, difficulty)) return nonce;
  }
}
