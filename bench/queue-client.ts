/**
 * One client process of the queue benchmark (forked by bench/queue.ts): opens its share of shopper
 * WebSockets to the gateways, joins the line, then records when each admission-tick broadcast arrives.
 * Talks to the parent over IPC:
 *   parent -> {cmd:'start', job} | {cmd:'resume'} | {cmd:'measure'} | {cmd:'report'} | {cmd:'close'}
 *   child  -> {type:'progress', joined, failed} | {type:'half', ...} | {type:'ready', ...} | {type:'report', ...} | {type:'closed'}
 */
import WebSocket from 'ws';
import { issueUserToken } from '../infra/auth.js';
import type { Config } from '../infra/config.js';
import { gatewayOf } from './queue-gateways.js';
import { openLite } from './ws-lite.js';

export interface ClientJob {
  worker: number;
  /** ws://host:port of each gateway; shopper k (= offset + i) goes to gateways[gatewayOf(k, shoppers, n)]. */
  gateways: string[];
  offset: number;
  /** Shoppers across all client processes. */
  shoppers: number;
  saleId: string;
  userIds: string[];
  tokenSecret: string;
  /** Handshakes in flight at once in this process. */
  concurrency: number;
  /** Source address on loopback (127.0.0.<2+worker>): each client process gets its own ephemeral ports. */
  localAddress?: string;
  /** `lite` (bench/ws-lite.ts, default) or `ws` (the ws package). */
  client: 'lite' | 'ws';
  /** Open this many sockets, report `half` and wait for `resume` before opening the rest (0: no pause). */
  pauseAt: number;
  /** The head tier's reach (waiting-room/tiers.ts bounds[0]): sockets this close to the serving position get every tick. */
  headBound: number;
}

/** What one client saw of one tick: the tick's key, the server's send time (ms) if it carries one, arrivals by gateway. */
export interface TickSeen {
  key: string;
  serverTs: number | null;
  /** byGateway[g]: arrival times (ms) on the sockets of gateway g (every tier). */
  byGateway: number[][];
  /** Arrival times on the sockets of the head tier (0 < ticket - serving <= headBound). */
  head: number[];
  /** Sockets of this process in the head tier at this tick (filled in at the report): who should have it. */
  headExpected: number;
}

interface Shopper {
  /** Index of the gateway this socket is connected to. */
  gateway: number;
  open: boolean;
  close: (() => void) | null;
  /** -1 not joined yet, -2 joined before the start (no ticket yet), else the ticket. */
  ticket: number;
  admitted: boolean;
  /** Broadcast arrival times (ms) while measuring. */
  arrivals: number[] | null;
}

const send = (m: unknown) => process.send?.(m);
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sysNow = () => process.cpuUsage().system / 1e6;

let job: ClientJob;
let shoppers: Shopper[] = [];
let joined = 0;
/** Shoppers holding a ticket (pre-start joiners get theirs from the shuffle at the start). */
let ticketed = 0;
let failed = 0;
const joinMs: number[] = [];
let measuring = false;
const ticks = new Map<string, TickSeen>();
const counts: Record<string, number> = {};
/** When the server's pings arrived while measuring (ms). */
const pings: number[] = [];
let admittedCount = 0;

/**
 * The broadcast the server sends once per admission tick. Its key identifies the tick across clients;
 * `at`/`ts`/`sentAt` (epoch ms) is used as the tick time when present.
 */
export function tickOf(msg: Record<string, unknown>): { key: string; serverTs: number | null } | null {
  if (msg.type !== 'position' && msg.type !== 'tick') return null;
  const ts = [msg.at, msg.ts, msg.sentAt, msg.tickAt].find((v) => typeof v === 'number' || typeof v === 'string');
  const serverTs = typeof ts === 'number' ? ts : typeof ts === 'string' ? Date.parse(ts) : null;
  const id = msg.tick ?? msg.seq ?? msg.serving ?? serverTs;
  if (id === undefined || id === null) return null; // a per-user position message, not the broadcast
  return { key: String(id), serverTs: Number.isFinite(serverTs) ? serverTs : null };
}

function onMessage(s: Shopper, text: string, startedAt: number, settle: (ok: boolean) => void): void {
  const now = Date.now();
  // The tick broadcast is most of the traffic: read its key without a full parse.
  if (text.startsWith(TICK_HEAD)) {
    counts.position = (counts.position ?? 0) + 1;
    if (measuring) recordTick(s, text.slice(TICK_HEAD.length, text.indexOf(',', TICK_HEAD.length)), null, now);
    return;
  }
  let msg: Record<string, unknown>;
  try {
    msg = JSON.parse(text);
  } catch {
    return;
  }
  const type = String(msg.type);
  counts[type] = (counts[type] ?? 0) + 1;
  if (type === 'queued') {
    if (s.ticket === -1) joinMs.push(now - startedAt);
    if (typeof msg.ticket === 'number' && s.ticket < 0) ticketed += 1;
    s.ticket = typeof msg.ticket === 'number' ? msg.ticket : -2;
    settle(true);
    return;
  }
  if (type === 'admitted') {
    if (!s.admitted) admittedCount += 1;
    if (s.ticket < 0) {
      // admitted in the first tick, before the gateway passed on the ticket itself
      ticketed += 1;
      s.ticket = 0;
    }
    s.admitted = true;
    settle(true);
    return;
  }
  if (!measuring) return;
  const tick = tickOf(msg);
  if (tick) recordTick(s, tick.key, tick.serverTs, now);
}

/** The waiting room's broadcast starts with these bytes (waiting-room/messages.ts `serving`). */
const TICK_HEAD = '{"type":"position","serving":';

function recordTick(s: Shopper, key: string, serverTs: number | null, now: number): void {
  let seen = ticks.get(key);
  if (!seen) ticks.set(key, (seen = { key, serverTs, byGateway: job.gateways.map(() => []), head: [], headExpected: 0 }));
  seen.byGateway[s.gateway].push(now);
  const d = s.ticket - Number(key);
  if (s.ticket > 0 && d > 0 && d <= job.headBound) seen.head.push(now);
  (s.arrivals ??= []).push(now);
}

function open(i: number, config: Config): Promise<void> {
  return new Promise((resolve) => {
    const userId = job.userIds[i];
    const g = gatewayOf(job.offset + i, job.shoppers, job.gateways.length);
    const gw = job.gateways[g];
    const token = issueUserToken(config, userId);
    const startedAt = Date.now();
    const s: Shopper = { gateway: g, open: false, close: null, ticket: -1, admitted: false, arrivals: null };
    shoppers[i] = s;
    let done = false;
    const settle = (ok: boolean) => {
      if (done) return;
      done = true;
      if (ok) joined += 1;
      else failed += 1;
      resolve();
    };
    const path = `/ws/sales/${job.saleId}?token=${encodeURIComponent(token)}`;
    const closed = () => {
      s.open = false;
      s.close = null;
      settle(false);
    };
    if (job.client === 'ws') {
      const ws = new WebSocket(`${gw}${path}`, { perMessageDeflate: false, handshakeTimeout: 30_000, localAddress: job.localAddress });
      s.close = () => ws.terminate();
      ws.on('open', () => (s.open = true));
      ws.on('message', (data) => onMessage(s, data.toString(), startedAt, settle));
      ws.on('error', closed);
      ws.on('close', closed);
    } else {
      const { hostname, port } = new URL(gw);
      const c = openLite(hostname, Number(port), path, {
        onOpen: () => (s.open = true),
        onText: (text) => onMessage(s, text, startedAt, settle),
        onClose: closed,
        onPing: () => {
          counts.ping = (counts.ping ?? 0) + 1;
          if (measuring) pings.push(Date.now());
        },
      }, job.localAddress);
      s.close = c.close;
    }
  });
}

let resume: () => void = () => {};
let cpuAtStart = 0;
let cpuAtMeasure = 0;
/** When measuring started (ms). */
let cpuAtMeasureAt = 0;
let sysAtStart = 0;
let sysAtMeasure = 0;

async function start(): Promise<void> {
  cpuAtStart = cpuNow();
  sysAtStart = sysNow();
  const config = { tokenSecret: job.tokenSecret, userTokenTtlSeconds: 3600 } as Config;
  shoppers = new Array(job.userIds.length);
  let next = 0;
  setInterval(() => send({ type: 'progress', joined, failed, ticketed }), 500);
  const t0 = Date.now();
  const lanes = async (end: number) => {
    const lane = async () => {
      while (next < end) await open(next++, config);
    };
    await Promise.all(Array.from({ length: Math.min(job.concurrency, end - next) }, lane));
  };
  let halfAt: number | null = null;
  let resumedAt: number | null = null;
  if (job.pauseAt > 0 && job.pauseAt < job.userIds.length) {
    await lanes(job.pauseAt);
    halfAt = Date.now();
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    send({ type: 'half', joined, failed, at: halfAt });
    await resumed;
    resumedAt = Date.now();
  }
  await lanes(job.userIds.length);
  joinMs.sort((a, b) => a - b);
  send({
    type: 'ready',
    joined,
    failed,
    startedAt: t0,
    halfAt,
    resumedAt,
    cpuSeconds: cpuNow() - cpuAtStart,
    sysSeconds: sysNow() - sysAtStart,
    endedAt: Date.now(),
    joinP50: joinMs[Math.floor(joinMs.length * 0.5)] ?? null,
    joinP99: joinMs[Math.floor(joinMs.length * 0.99)] ?? null,
  });
}

process.on('message', (m: { cmd: string; job?: ClientJob }) => {
  if (m.cmd === 'start') {
    job = m.job!;
    void start();
  } else if (m.cmd === 'resume') {
    resume();
  } else if (m.cmd === 'measure') {
    cpuAtMeasure = cpuNow();
    sysAtMeasure = sysNow();
    cpuAtMeasureAt = Date.now();
    ticks.clear();
    for (const s of shoppers) if (s) s.arrivals = null;
    measuring = true;
  } else if (m.cmd === 'report') {
    measuring = false;
    const open = shoppers.filter((s) => s?.open).length;
    const waitingNow = shoppers.filter((s) => s?.open && !s.admitted);
    const waiting = waitingNow.length;
    // who should have had each tick in the head tier: open sockets 1..headBound places behind its serving position
    for (const t of ticks.values()) {
      const serving = Number(t.key);
      t.headExpected = shoppers.filter((s) => s?.open && s.ticket > serving && s.ticket - serving <= job.headBound).length;
    }
    // every refresh of every socket still waiting at the end (offsets from `base`, to keep the message small)
    const base = cpuAtMeasureAt;
    const arrivals = waitingNow.map((s) => (s.arrivals ?? []).map((a) => a - base));
    send({ type: 'report', ticks: [...ticks.values()], pings, open, waiting, admitted: admittedCount, counts, cpuSeconds: cpuNow() - cpuAtMeasure, sysSeconds: sysNow() - sysAtMeasure, base, arrivals });
  } else if (m.cmd === 'close') {
    for (const s of shoppers) s?.close?.();
    send({ type: 'closed' });
    setTimeout(() => process.exit(0), 200);
  }
});
process.on('disconnect', () => process.exit(0));
