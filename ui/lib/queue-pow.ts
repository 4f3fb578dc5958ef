import { sha256 } from '@noble/hashes/sha2.js';

/**
 * Proof of work on join, in the waiting room's format (waiting-room/pow.ts, which the server checks with;
 * queue-state.test.ts proves the two agree): the stamp `fs-pow:<saleId>:<userId>:<nonce>` must hash
 * (SHA-256, UTF-8) to at least `difficulty` leading zero bits; the nonce is a base-36 counter. The work is
 * done in slices so the page stays responsive, and the nonce is kept for the tab, because the same stamp
 * is accepted again on every reconnect.
 *
 * @noble/hashes rather than crypto.subtle: subtle is missing on plain-http pages other than localhost,
 * and one await per hash would make it slower than the loop.
 */
const encoder = new TextEncoder();

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

export function checkStamp(saleId: string, userId: string, nonce: string, difficulty: number): boolean {
  return leadingZeroBits(sha256(encoder.encode(`fs-pow:${saleId}:${userId}:${nonce}`))) >= difficulty;
}

/** Counts nonces until one is good, yielding to the page every `slice` hashes. */
export async function solve(saleId: string, userId: string, difficulty: number, slice = 4000): Promise<string> {
  for (let i = 0; ; ) {
    const end = i + slice;
    for (; i < end; i++) {
      const nonce = i.toString(36);
      if (checkStamp(saleId, userId, nonce, difficulty)) return nonce;
    }
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** Query parameters to add to the queue socket URL: `{pow: nonce}` when the sale asks for work. */
export async function powParams(saleId: string, userId: string, difficulty: number): Promise<Record<string, string>> {
  if (!difficulty || difficulty <= 0) return {};
  const key = `fs.pow.${saleId}.${userId}.${difficulty}`;
  let nonce = sessionStorage.getItem(key);
  if (!nonce || !checkStamp(saleId, userId, nonce, difficulty)) {
    nonce = await solve(saleId, userId, difficulty);
    sessionStorage.setItem(key, nonce);
  }
  return { pow: nonce };
}
