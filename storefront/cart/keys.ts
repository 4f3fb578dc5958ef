/**
 * Redis key layout of the storefront carts. Each cart is one hash under its own hash tag, so every script
 * touches one slot and runs unchanged on Redis Cluster.
 *
 *   cart:{u:<userId>}   hash  product id -> quantity, `_v` change counter; a signed-in user's live cart
 *   cart:{a:<cartId>}   hash  the same, for an anonymous cart (cart id from the signed cart token)
 *   cart:dirty          zset  user id -> `_v` of the last change not yet persisted (write-behind queue)
 *   checkout:{u:<userId>}:<key hash>  string  lock held while one checkout with that Idempotency-Key runs
 */
export const cartKeys = (prefix: string) => ({
  user: (userId: string) => `${prefix}cart:{u:${userId}}`,
  anon: (cartId: string) => `${prefix}cart:{a:${cartId}}`,
  dirty: `${prefix}cart:dirty`,
  checkoutLock: (userId: string, keyHash: string) => `${prefix}checkout:{u:${userId}}:${keyHash}`,
  flushLease: `${prefix}cart:flush-lease`,
});

export type CartKeys = ReturnType<typeof cartKeys>;
