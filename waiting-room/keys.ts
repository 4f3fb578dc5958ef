import { saleKeys } from '../reservation/index.js';

/**
 * The waiting room's Redis keys. They live under the sale's hash tag ({sale:<id>}:wr:*), so the queue
 * scripts also read the sale's meta, stock, stats and events in one atomic call (and run on Redis Cluster).
 *
 *   wr:state     hash   phase (pre|live), next (last ticket handed out), serving (highest ticket passed by
 *                       admission), slot (last admission slot = floor(ms / intervalMs)), soldOut (0|1|2 final),
 *                       rate (tickets per second x 1000, measured), cursor (last events-stream id read),
 *                       lateSeq, closed (1 once closing was announced), admitted / skipped (totals)
 *   wr:tickets   hash   userId -> ticket, while the user holds a place (waiting or admitted)
 *   wr:line      zset   userId -> ticket, users with a ticket still waiting
 *   wr:pre       zset   userId -> secret random key (crypto), users who joined before startsAt
 *   wr:late      zset   userId -> join order, users who joined after startsAt while the shuffle still ran
 *   wr:admitted  zset   userId -> end of the admission window (ms): admitted, not yet reserved
 *   wr:grants    hash   userId -> "<admissionToken>|<expiresAt ISO>"
 *   wr:seen      zset   userId -> last time the user was known to be there (ms, Redis clock)
 *   wr:conn      hash   userId -> id of the user's current WebSocket connection
 *   wr:rate      list   "<ms>:<serving>" samples, newest first, for the measured admission rate
 */
export function queueKeys(prefix: string, saleId: string) {
  const s = saleKeys(prefix, saleId);
  const wr = `${s.base}wr:`;
  return {
    sale: s,
    state: `${wr}state`,
    tickets: `${wr}tickets`,
    line: `${wr}line`,
    pre: `${wr}pre`,
    late: `${wr}late`,
    admitted: `${wr}admitted`,
    grants: `${wr}grants`,
    seen: `${wr}seen`,
    conn: `${wr}conn`,
    rate: `${wr}rate`,
  };
}

export type QueueKeys = ReturnType<typeof queueKeys>;

/** Every waiting-room key of a sale (for expiry after close). */
export const allQueueKeys = (k: QueueKeys) => [k.state, k.tickets, k.line, k.pre, k.late, k.admitted, k.grants, k.seen, k.conn, k.rate];

/** Sales whose waiting room has had a joiner and is not closed yet: the admission ticker walks these. */
export const queueSalesKey = (prefix: string) => `${prefix}wr:sales`;

/** The lease that makes one process (of however many gateways) run the admission ticks. */
export const tickerLeaseKey = (prefix: string) => `${prefix}wr:ticker`;

/** Pub/sub channels: every gateway subscribes and forwards into its local uWS topics and sockets. */
export const channels = (prefix: string) => ({
  /**
   * "<saleId>|<kind>|<payload>": kind tick or refresh (payload JSON {serving, perSecond, slot}: each gateway
   * sends its tiers' broadcasts, room.ts), sold_out (payload = the client message), closed, shuffled.
   */
  broadcast: `${prefix}wr:broadcast`,
  /** JSON {saleId, grants: [[userId, token, expiresAt], ...]} */
  admitted: `${prefix}wr:admitted`,
  /** "<saleId>|<userId>|<connId>": a newer connection holds the user's place; older sockets close. */
  claim: `${prefix}wr:claim`,
  /** JSON {userId, message}: a message for one shopper on whichever gateway holds their socket. */
  user: `${prefix}wr:user`,
});
