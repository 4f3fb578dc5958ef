/**
 * Redis key layout of one sale. Every key of a sale shares the hash tag {sale:<id>}, so the scripts run
 * unchanged on Redis Cluster. `prefix` isolates deployments (and test files) sharing one Redis.
 *
 *   meta            hash   id, status, productId, priceCents, quantity, perUserLimit, holdSeconds,
 *                          waitingRoom (0|1), startsAt, endsAt (epoch ms)
 *   stock           string units still available (never negative)
 *   holds           zset   reservationId -> expiresAt (ms), for holds in state `held` only
 *   hold:<rid>      hash   userId, quantity, expiresAt, status (held|paying|sold|released|expired), createdAt
 *   users           hash   userId -> units the user holds or bought (the per-user limit counts these)
 *   idem            hash   "<userId>:<Idempotency-Key>" -> "rid|quantity|expiresAt"
 *   seq             string reservation sequence
 *   stats           hash   held (units in held or paying holds), sold (units)
 *   events          stream type, rid, userId, quantity: for settlement, the waiting room and audits
 *   admission:<jti> string single-use marker of a spent admission token
 *   recon           string JSON of the last reconciliation result (written by settlement, shown by admin)
 *   wr:*            the waiting room's own keys
 */
export function saleKeys(prefix: string, saleId: string | number) {
  const base = `${prefix}{sale:${saleId}}:`;
  return {
    base,
    meta: `${base}meta`,
    stock: `${base}stock`,
    holds: `${base}holds`,
    users: `${base}users`,
    idem: `${base}idem`,
    seq: `${base}seq`,
    stats: `${base}stats`,
    events: `${base}events`,
    recon: `${base}recon`,
    hold: (rid: string) => `${base}hold:${rid}`,
    admission: (jti: string) => `${base}admission:${jti}`,
  };
}

export type SaleKeys = ReturnType<typeof saleKeys>;

/** Sales the sweeper and reconciliation must look at (open, or closed with holds outstanding). */
export const activeSalesKey = (prefix: string) => `${prefix}sales:active`;

/** Channel where sale status changes are published as JSON {saleId, status} (open, closed, cancelled). */
export const saleStatusChannel = (prefix: string) => `${prefix}sales:status`;

/** Reservation ids are "<saleId>-<seq>", so the sale (and its hash tag) can be found from the id alone. */
export function saleIdOfReservation(rid: string): string | null {
  const m = /^(\d{1,18})-(\d{1,18})$/.exec(rid);
  return m ? m[1] : null;
}
