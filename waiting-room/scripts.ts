import { luaScript, registerLua, runLua } from '../infra/lua.js';
import type { Redis } from '../infra/redis.js';
import type { QueueKeys } from './keys.js';

/**
 * The waiting room's Lua scripts (lua/), one typed function each (after BullMQ's Scripts class): the key
 * list in the order of the script's header, the reply read in one place. Each runs on Redis' clock.
 */
const lua = registerLua(new URL('./lua/', import.meta.url));
const JOIN = luaScript(lua, 'queue-join');
const LEAVE = luaScript(lua, 'queue-leave');
const SEEN = luaScript(lua, 'queue-seen');
const TICK = luaScript(lua, 'queue-tick');

export interface JoinArgs {
  userId: string;
  /** The WebSocket connection taking over the place ("" for HTTP). */
  connId: string;
  /** Secret random key for the pre-start shuffle (an integer < 2^48, from crypto). */
  shuffleKey: number;
  startsAt: number;
  endsAt: number;
  graceMs: number;
  /** Join when the user has no place (else only look). */
  join: boolean;
}

export interface Joined {
  kind: 'PRE' | 'WAITING' | 'ADMITTED' | 'CLOSED' | 'NONE';
  ticket: number;
  serving: number;
  /** "token|expiresAt" of an admitted user, or "" when not issued yet. */
  grant: string;
  windowEnd: number;
  soldOut: number;
  rateMilli: number;
  /** The connection that held the place before this one ("" if none). */
  previousConn: string;
}

type JoinReply = [kind: Joined['kind'], ticket: number, serving: number, grant: string, windowEnd: number, soldOut: number, rateMilli: number, previousConn?: string];

/** queue-join-10: joins the queue, or looks the user's place up. */
export async function queueJoin(redis: Redis, k: QueueKeys, a: JoinArgs): Promise<Joined> {
  const [kind, ticket, serving, grant, windowEnd, soldOut, rateMilli, previousConn] = await runLua<JoinReply>(
    redis,
    JOIN,
    [k.sale.meta, k.state, k.tickets, k.line, k.pre, k.late, k.admitted, k.grants, k.seen, k.conn],
    [a.userId, a.connId, a.shuffleKey, a.startsAt, a.endsAt, a.graceMs, a.join ? '1' : '0'],
  );
  return { kind, ticket, serving, grant, windowEnd, soldOut, rateMilli, previousConn: previousConn ?? '' };
}

/** queue-leave-2: a socket closed; true when it was the user's current connection (the grace period starts). */
export async function queueLeave(redis: Redis, k: QueueKeys, userId: string, connId: string): Promise<boolean> {
  return (await runLua<number>(redis, LEAVE, [k.conn, k.seen], [userId, connId])) === 1;
}

/** queue-seen-1: these users' sockets are open here; the number refreshed. */
export function queueSeen(redis: Redis, k: QueueKeys, userIds: readonly string[]): Promise<number> {
  return runLua<number>(redis, SEEN, [k.seen], userIds);
}

export interface TickArgs {
  startsAt: number;
  endsAt: number;
  intervalMs: number;
  batchSize: number;
  overAdmissionFactor: number;
  graceMs: number;
  windowMs: number;
  /** Most tickets the pre-start shuffle hands out per step. */
  shuffleChunk: number;
  /** Most places passed per admission. */
  maxScan: number;
  rateWindowMs: number;
}

export interface TickResult {
  status: 'CLOSED' | 'WAITING' | 'OPEN';
  /** CLOSED: true the first time. Otherwise: an admission tick happened in this step. */
  ticked: boolean;
  slot: number;
  serving: number;
  rateMilli: number;
  soldOut: number;
  soldOutChanged: boolean;
  shuffled: boolean;
  skipped: number;
  /** Users admitted in this tick, with their tickets. */
  admitted: Array<[userId: string, ticket: number]>;
  /** Users the pre-start shuffle gave a ticket in this step. */
  handed: Array<[userId: string, ticket: number]>;
}

/** queue-tick-13: one step of a sale's queue (run by the ticker that holds the lease). */
export async function queueTick(redis: Redis, k: QueueKeys, a: TickArgs): Promise<TickResult> {
  const r = await runLua<Array<string | number>>(
    redis,
    TICK,
    [k.sale.meta, k.sale.stock, k.sale.stats, k.sale.events, k.state, k.tickets, k.line, k.pre, k.late, k.admitted, k.grants, k.seen, k.rate],
    [a.startsAt, a.endsAt, a.intervalMs, a.batchSize, a.overAdmissionFactor, a.graceMs, a.windowMs, a.shuffleChunk, a.maxScan, a.rateWindowMs],
  );
  const status = r[0] as TickResult['status'];
  if (status === 'CLOSED') {
    return { status, ticked: r[1] === 1, slot: 0, serving: 0, rateMilli: -1, soldOut: 0, soldOutChanged: false, shuffled: false, skipped: 0, admitted: [], handed: [] };
  }
  const n = Number(r[9]);
  const m = Number(r[10]);
  const pairs = (from: number, count: number) => Array.from({ length: count }, (_, i): [string, number] => [String(r[from + 2 * i]), Number(r[from + 1 + 2 * i])]);
  return {
    status,
    ticked: r[1] === 1,
    slot: Number(r[2]),
    serving: Number(r[3]),
    rateMilli: Number(r[4]),
    soldOut: Number(r[5]),
    soldOutChanged: r[6] === 1,
    shuffled: Number(r[7]) > 0,
    skipped: Number(r[8]),
    admitted: pairs(11, n),
    handed: pairs(11 + 2 * n, m),
  };
}
