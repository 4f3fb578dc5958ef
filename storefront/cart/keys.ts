/**
 * Redis key layout of the storefront carts. A signed-in user's cart lives in one of 64 buckets, and each
 * bucket's keys share a hash tag: a change to a cart and its mark in the bucket's dirty set are one Lua call
 * in one slot, so the scripts run unchanged on Redis Cluster and no change can miss its write-behind.
 *
 *   cart:{c<b>}:u:<userId>  hash  product id -> quantity, `_v` change counter; a signed-in user's live cart
 *   cart:{c<b>}:dirty       zset  user id -> `_v` of the last change not yet persisted (write-behind queue)
 *   cart:{a:<cartId>}       hash  the same as a user's cart, for an anonymous cart (id from its signed token)
 *   checkout:{u:<userId>}:<key hash>  string  lock held while one checkout with that Idempotency-Key runs
 */
export const CART_BUCKETS = 64;

/** The bucket of a user (FNV-1a of the id, so any id format spreads evenly). */
export function bucketOf(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % CART_BUCKETS;
}

export const cartKeys = (prefix: string) => ({
  user: (userId: string) => `${prefix}cart:{c${bucketOf(userId)}}:u:${userId}`,
  anon: (cartId: string) => `${prefix}cart:{a:${cartId}}`,
  /** Dirty set of a bucket. */
  dirty: (bucket: number) => `${prefix}cart:{c${bucket}}:dirty`,
  /** Every bucket's dirty set. */
  allDirty: () => Array.from({ length: CART_BUCKETS }, (_, b) => `${prefix}cart:{c${b}}:dirty`),
  /** A key in an anonymous cart's slot that is never written (the dirty-set slot of a script call). */
  anonNoDirty: (cartId: string) => `${prefix}cart:{a:${cartId}}:none`,
  /** Set when an anonymous cart was merged into an account: its token is void from then on. */
  anonMerged: (cartId: string) => `${prefix}cart:{a:${cartId}}:merged`,
  checkoutLock: (userId: string, keyHash: string) => `${prefix}checkout:{u:${userId}}:${keyHash}`,
  flushLease: `${prefix}cart:flush-lease`,
});

export type CartKeys = ReturnType<typeof cartKeys>;
