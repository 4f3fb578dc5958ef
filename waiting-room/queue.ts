import { randomInt } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { issueAdmissionToken, type Sale } from '../reservation/index.js';
import { queueKeys } from './keys.js';
import { queueJoin, queueLeave, queueSeen, queueTick, type TickResult } from './scripts.js';

export type { TickResult };

/**
 * The queue's Redis operations (each one Lua script, atomic, on Redis' clock). The gateway (WebSocket and
 * HTTP fallback) and the ticker call these; nothing else touches the wr:* keys.
 */

export type PlaceKind = 'pre' | 'waiting' | 'admitted' | 'closed' | 'none';

export interface Place {
  kind: PlaceKind;
  /** The user's ticket: their number in the line. Null before the pre-start shuffle gave them one. */
  ticket: number | null;
  /** Places until the user's turn (1 = next); null without a ticket; 0 once admitted. */
  position: number | null;
  etaSeconds: number | null;
  /** 0 no, 1 sold out but holds are outstanding (stock may come back), 2 sold out for good. */
  soldOut: number;
  /** The serving position (the highest ticket admission has passed). */
  serving: number;
  /** Measured places per second (null when unknown). */
  perSecond: number | null;
  admissionToken?: string;
  admissionExpiresAt?: string;
  /** The connection that held the place before this join (to be closed wherever it is), if any. */
  previousConn?: string;
}

export const graceMs = (ctx: Context) => ctx.config.disconnectGraceSeconds * 1000;

/** Places per second: measured by the ticks when there is a measurement, else the sale's nominal pace. */
export function perSecond(sale: Sale, rateMilli: number): number {
  if (rateMilli >= 0) return rateMilli / 1000;
  return (sale.admission.batchSize * 1000) / sale.admission.intervalMs;
}

/** ETA of a place `position` places from the head: position / rate, rounded up; null when nothing moves. */
export function etaSeconds(position: number, rate: number): number | null {
  if (rate <= 0) return null;
  return Math.ceil(position / rate);
}

export const positionOf = (ticket: number, serving: number) => Math.max(1, ticket - serving);

/**
 * Joins the queue (join = true) or only looks the user up (join = false). `connId` is the WebSocket
 * connection taking over the place ("" for HTTP).
 */
export async function joinQueue(ctx: Context, sale: Sale, userId: string, connId: string, join: boolean): Promise<Place> {
  const k = queueKeys(ctx.config.redisPrefix, sale.id);
  const { kind, ticket, serving, grant, windowEnd, soldOut, rateMilli, previousConn } = await queueJoin(ctx.redis, k, {
    userId,
    connId,
    shuffleKey: randomInt(2 ** 47),
    startsAt: sale.startsAt.getTime(),
    endsAt: sale.endsAt.getTime(),
    graceMs: graceMs(ctx),
    join,
  });
  const rate = perSecond(sale, rateMilli);
  const base = { soldOut, serving, perSecond: rateMilli >= 0 ? rate : null, ...(previousConn ? { previousConn } : {}) };
  switch (kind) {
    case 'WAITING': {
      const position = positionOf(ticket, serving);
      return { kind: 'waiting', ticket, position, etaSeconds: soldOut ? null : etaSeconds(position, rate), ...base };
    }
    case 'ADMITTED': {
      const [token, expiresAt] = (grant || (await ensureGrant(ctx, sale, userId, windowEnd))).split('|');
      return { kind: 'admitted', ticket, position: 0, etaSeconds: 0, admissionToken: token, admissionExpiresAt: expiresAt, ...base };
    }
    case 'PRE':
      return { kind: 'pre', ticket: null, position: null, etaSeconds: null, ...base };
    case 'CLOSED':
      return { kind: 'closed', ticket: null, position: null, etaSeconds: null, ...base };
    default:
      return { kind: 'none', ticket: null, position: null, etaSeconds: null, ...base };
  }
}

/**
 * The admission token of an admitted user. The ticker issues it right after admitting; if that process
 * died in between, whoever asks first issues it (HSETNX: one token per admission, never two).
 */
export async function ensureGrant(ctx: Context, sale: Sale, userId: string, windowEndMs: number): Promise<string> {
  const k = queueKeys(ctx.config.redisPrefix, sale.id);
  const windowMs = sale.admission.windowSeconds * 1000;
  const t = issueAdmissionToken(ctx.config.tokenSecret, userId, sale.id, sale.admission.windowSeconds, windowEndMs - windowMs);
  const grant = `${t.token}|${t.expiresAt}`;
  if (await ctx.redis.hsetnx(k.grants, userId, grant)) return grant;
  return (await ctx.redis.hget(k.grants, userId)) ?? grant;
}

export type Grant = [userId: string, token: string, expiresAt: string, ticket: number];

/** Issues and stores tokens for users just admitted. */
export async function grantAll(ctx: Context, sale: Sale, admitted: Array<[string, number]>): Promise<Grant[]> {
  const now = Date.now();
  const k = queueKeys(ctx.config.redisPrefix, sale.id);
  return Promise.all(
    admitted.map(async ([u, ticket]): Promise<Grant> => {
      const t = issueAdmissionToken(ctx.config.tokenSecret, u, sale.id, sale.admission.windowSeconds, now);
      let grant = `${t.token}|${t.expiresAt}`;
      if (!(await ctx.redis.hsetnx(k.grants, u, grant))) grant = (await ctx.redis.hget(k.grants, u)) ?? grant;
      const [token, expiresAt] = grant.split('|');
      return [u, token, expiresAt, ticket];
    }),
  );
}

/** A WebSocket closed: the grace period starts if it was the user's current connection. */
export async function leaveQueue(ctx: Context, saleId: string, userId: string, connId: string): Promise<void> {
  const k = queueKeys(ctx.config.redisPrefix, saleId);
  await queueLeave(ctx.redis, k, userId, connId);
}

/** Heartbeat for users connected to this gateway. */
export async function refreshSeen(ctx: Context, saleId: string, userIds: string[]): Promise<void> {
  const k = queueKeys(ctx.config.redisPrefix, saleId);
  for (let i = 0; i < userIds.length; i += 1000) {
    await queueSeen(ctx.redis, k, userIds.slice(i, i + 1000));
  }
}

/** Tickets of users (null where none yet), with the serving position and rate: for pre-start sockets. */
export async function ticketsOf(ctx: Context, saleId: string, userIds: string[]) {
  const k = queueKeys(ctx.config.redisPrefix, saleId);
  const [tickets, [serving, rate, soldOut]] = await Promise.all([
    ctx.redis.hmget(k.tickets, ...userIds),
    ctx.redis.hmget(k.state, 'serving', 'rate', 'soldOut'),
  ]);
  return {
    tickets: tickets.map((t) => (t === null ? null : Number(t))),
    serving: Number(serving ?? 0),
    rateMilli: Number(rate ?? -1),
    soldOut: Number(soldOut ?? 0),
  };
}

export const RATE_WINDOW_MS = 10_000;
const SHUFFLE_CHUNK = 5000;
const MAX_SCAN = 20_000;

export async function tickSale(ctx: Context, sale: Sale): Promise<TickResult> {
  const k = queueKeys(ctx.config.redisPrefix, sale.id);
  return queueTick(ctx.redis, k, {
    startsAt: sale.startsAt.getTime(),
    endsAt: sale.endsAt.getTime(),
    intervalMs: sale.admission.intervalMs,
    batchSize: sale.admission.batchSize,
    overAdmissionFactor: sale.admission.overAdmissionFactor,
    graceMs: graceMs(ctx),
    windowMs: sale.admission.windowSeconds * 1000,
    shuffleChunk: SHUFFLE_CHUNK,
    maxScan: MAX_SCAN,
    rateWindowMs: RATE_WINDOW_MS,
  });
}
