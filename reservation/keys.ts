import type { HoldStatus } from './hold-status.js';
/**
 * Redis key layout of one sale. Every key of a sale shares the hash tag {sale:<id>}, so the scripts run
 * unchanged on Redis Cluster. `prefix` isolates deployments (and test files) sharing one Redis.
 *
 *   meta            hash   id, status, productId, priceCents, quantity, perUserLimit, holdSeconds,
 *                          waitingRoom (0|1), startsAt, endsAt (epoch ms)
 *   stock           string units still available (never negative)
 *   holds           zset   reservationId -> expiresAt (ms), for holds in state `held` only
 *   records         hash   reservationId -> the hold's record "userId|quantity|expiresAt|status|createdAt",
 *                          status held|paying|sold|released|expired (one field per hold, not a hash per
 *                          hold: a batch of reservations writes all its records with one HSET)
 *   checkout:<rid>  hash   checkoutKey, orderId, checkoutAt, paymentMethod, jobId: written when the hold's
 *                          checkout begins (settlement)
 *   users           hash   userId -> units the user holds or bought (the per-user limit counts these)
 *   idem            hash   "<userId>:<Idempotency-Key>" -> "rid|quantity|expiresAt"
 *   seq             string reservation sequence
 *   stats           hash   held (units in held or paying holds), sold (units)
 *   events          stream type, rid, userId, quantity: for settlement, the waiting room and audits. An
 *                          entry may carry several reservations of one type (a batch of reservations is
 *                          one entry): rid, userId and quantity are then space-separated lists in step
 *   admission:<jti> string single-use marker of a spent admission token
 *   paying          zset   reservationId -> checkout time (ms): holds in state `paying` (payment in flight);
 *                          settlement's reconciliation walks it to find checkouts left stuck by a crash
 *   sold            set    reservation ids of sold holds (reconciliation compares it with the paid orders)
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
    records: `${base}records`,
    users: `${base}users`,
    idem: `${base}idem`,
    seq: `${base}seq`,
    stats: `${base}stats`,
    events: `${base}events`,
    paying: `${base}paying`,
    sold: `${base}sold`,
    recon: `${base}recon`,
    checkout: (rid: string) => `${base}checkout:${rid}`,
    admission: (jti: string) => `${base}admission:${jti}`,
  };
}

export type SaleKeys = ReturnType<typeof saleKeys>;

export type { HoldStatus };
export interface HoldRecord {
  userId: string;
  quantity: number;
  expiresAt: number;
  status: HoldStatus;
  createdAt: number;
}

/** A hold's record as stored in the sale's `records` hash (null for a missing or unreadable one). */
export function parseHoldRecord(text: string | null | undefined): HoldRecord | null {
  const f = text?.split('|');
  if (!f || f.length !== 5) return null;
  return { userId: f[0], quantity: Number(f[1]), expiresAt: Number(f[2]), status: f[3] as HoldStatus, createdAt: Number(f[4]) };
}

/** The stored form of a hold's record (the Lua scripts write the same, see lua/includes/hold-record.lua). */
export const holdRecordText = (h: HoldRecord): string => `${h.userId}|${h.quantity}|${h.expiresAt}|${h.status}|${h.createdAt}`;

/** Sales the sweeper and reconciliation must look at (open, or closed with holds outstanding). */
export const activeSalesKey = (prefix: string) => `${prefix}sales:active`;

/** Channel where sale status changes are published as JSON {saleId, status} (open, closed, cancelled). */
export const saleStatusChannel = (prefix: string) => `${prefix}sales:status`;

/** Reservation ids are "<saleId>-<seq>", so the sale (and its hash tag) can be found from the id alone. */
export function saleIdOfReservation(rid: string): string | null {
  const m = /^(\d{1,18})-(\d{1,18})$/.exec(rid);
  return m ? m[1] : null;
}
