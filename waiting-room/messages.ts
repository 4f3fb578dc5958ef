import type { Place } from './queue.js';

/**
 * Every message the waiting room sends to a shopper, as one place to read the protocol (see
 * docs/waiting-room.md). Built as strings once, so a broadcast is serialised once, not per socket.
 */
export const msg = {
  queued: (p: Pick<Place, 'ticket' | 'position' | 'etaSeconds'>) =>
    JSON.stringify({ type: 'queued', ticket: p.ticket, position: p.position, etaSeconds: p.etaSeconds }),
  position: (position: number | null, etaSeconds: number | null) => JSON.stringify({ type: 'position', position, etaSeconds }),
  /**
   * The broadcast (the same bytes for every socket of a tier): clients work out
   * position = max(1, ticket - serving) and etaSeconds = ceil(position / perSecond) (none when perSecond is 0).
   * `nextRefreshMs`: the next broadcast to this socket comes within this long (its tier's period, tiers.ts);
   * in between the page interpolates from perSecond.
   */
  serving: (serving: number, perSecond: number, nextRefreshMs: number) =>
    `{"type":"position","serving":${serving},"perSecond":${Math.round(perSecond * 100) / 100},"nextRefreshMs":${nextRefreshMs}}`,
  admitted: (admissionToken: string, expiresAt: string) => JSON.stringify({ type: 'admitted', admissionToken, expiresAt }),
  soldOut: (final: boolean) => JSON.stringify({ type: 'sold_out', final }),
  closed: () => JSON.stringify({ type: 'closed' }),
  pong: () => JSON.stringify({ type: 'pong' }),
  error: (code: string, message: string, extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'error', code, message, ...extra }),
};

/** Close codes of the waiting room's sockets (1000 = the sale closed). */
export const CLOSE = {
  saleClosed: 1000,
  goingAway: 1001,
  abuse: 1008,
  notOpen: 4000,
  replaced: 4001,
} as const;
