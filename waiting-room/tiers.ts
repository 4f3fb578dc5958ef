/**
 * Updates by distance from the head of the line (docs/waiting-room.md, "Tiers").
 *
 * A shopper's distance is `ticket - serving`. Tier 0 (the head: the next few batches) gets every admission
 * tick's broadcast; tier i gets every 2^i-th tick, and the tiers grow 4x in distance, so the far end of a
 * long line gets a refresh every few seconds instead of every tick. No tier waits longer than
 * MAX_REFRESH_MS. Each tier of period p is split into p groups by `ticket mod p`, and tick (slot) n
 * refreshes group `n mod p` of every tier: the far tiers' frames are spread evenly over the ticks, and a
 * socket's refreshes stay exactly p ticks apart (also when it moves to a nearer tier: the periods are powers
 * of two, so the groups nest). On a gateway a tier's group is one uWS topic: a broadcast is one publish per
 * due topic, and sockets move between topics as the serving position advances.
 */

/** The head tier: this many batches from the serving position. */
export const HEAD_BATCHES = 3;
/** Each tier reaches this many times farther back than the one before it. */
export const TIER_GROWTH = 4;
/**
 * The longest a waiting socket goes without a refresh (plus the fan-out time). The target is 5 s; 4 s
 * leaves room for a late tick and a busy box.
 */
export const MAX_REFRESH_MS = 4000;

export interface TierLayout {
  intervalMs: number;
  /** bounds[i]: the largest distance in tier i (the last tier: Infinity). */
  bounds: number[];
  /** periods[i]: tier i gets every periods[i]-th tick (powers of two, 1 for the head). */
  periods: number[];
  /** Tickets per bucket on a gateway: sockets move between tiers a bucket at a time. */
  bucket: number;
}

export function tierLayout(batchSize: number, intervalMs: number): TierLayout {
  const cap = Math.max(1, Math.floor(MAX_REFRESH_MS / Math.max(1, intervalMs)));
  const periods = [1];
  while (periods[periods.length - 1] * 2 <= cap) periods.push(periods[periods.length - 1] * 2);
  const batch = Math.max(1, batchSize);
  const head = HEAD_BATCHES * batch;
  const bounds = periods.map((_, i) => (i === periods.length - 1 ? Infinity : head * TIER_GROWTH ** i));
  return { intervalMs, bounds, periods, bucket: batch };
}

/** The tier of a socket `distance` places from the serving position. */
export function tierOf(layout: TierLayout, distance: number): number {
  const { bounds } = layout;
  for (let i = 0; i < bounds.length; i++) if (distance <= bounds[i]) return i;
  return bounds.length - 1;
}

/**
 * The tier a gateway puts a ticket in: that of the first ticket of its bucket (a bucket is never farther
 * out than its nearest member).
 */
export function tierOfTicket(layout: TierLayout, ticket: number, serving: number): number {
  return tierOf(layout, Math.floor(ticket / layout.bucket) * layout.bucket - serving);
}

/** How long until tier `tier` hears again, at most (the `nextRefreshMs` of its broadcasts). */
export function refreshMs(layout: TierLayout, tier: number): number {
  return Math.min(MAX_REFRESH_MS, layout.periods[tier] * layout.intervalMs);
}

/**
 * The groups of each tier due from slot `from` (exclusive) to slot `to` (inclusive): one per slot, at most
 * all of them (after missed ticks every group that was skipped gets this one). `from` null: `to` alone.
 */
export function dueGroups(layout: TierLayout, from: number | null, to: number): number[][] {
  return layout.periods.map((p) => {
    const first = from === null ? to : Math.max(from + 1, to - p + 1);
    const out: number[] = [];
    for (let n = first; n <= to; n++) out.push(((n % p) + p) % p);
    return out;
  });
}
