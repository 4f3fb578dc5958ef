import { createHash } from 'node:crypto';
import { leadingZeroBits, NONCE, powStamp } from './pow-format.js';

export { powStamp };

/**
 * Proof of work on join, hashcash style: a bot brake for sales with `powDifficulty` > 0.
 *
 * The format (stamp, nonce, zero-bit count) is in pow-format.ts, shared with the queue page. The stamp
 * binds the work to one sale and one user, so it cannot be bought once and shared; the same stamp may be sent again on a reconnect. Each extra bit doubles the expected work:
 * 2^difficulty hashes on average (16 bits is about 65k hashes, well under a second in a browser).
 */
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
