import { randomBytes } from 'node:crypto';
import type { Context } from '../infra/context.js';
import { publish, subscribe, type Redis } from '../infra/redis.js';
import { getSale, saleEnded, saleStatusChannel, type Sale } from '../reservation/index.js';
import type { TemplatedApp, WebSocket } from '../infra/uws.js';
import { channels, queueKeys, queueSalesKey } from './keys.js';
import { CLOSE, msg } from './messages.js';
import { Pinger } from './pinger.js';
import { moveSocket, type SocketState } from './socket-state.js';
import { etaSeconds, graceMs, perSecond, positionOf, refreshSeen, ticketsOf, type Grant, type Place } from './queue.js';
import { PRE_TIER, Room, type Round } from './room.js';
import { tierLayout } from './tiers.js';

/**
 * What a waiting-room socket carries, one per queued shopper, so kept small: the sale's id and the client
 * address are the room's and the per-IP table's shared strings, the connection id is a number (its string
 * form, `connIdOf`, is built when Redis needs it), and the rate-limit window counts in whole seconds
 * (small integers are not heap objects).
 */
export interface Conn {
  room: Room;
  userId: string;
  /** This gateway's connection number (see Hub.connIdOf). */
  seq: number;
  ip: string;
  pow: string | null;
  /** joining: before the join script answered; pre: in line without a ticket yet. */
  state: SocketState;
  ticket: number | null;
  /** The tier whose topic the socket is subscribed to (room.ts: NO_TIER, PRE_TIER, or 0..). */
  tier: number;
  closed: boolean;
  strikes: number;
  /** The second (epoch seconds) the message count belongs to. */
  windowStart: number;
  messages: number;
  /** A message was dropped under backpressure: send a fresh status once the socket drains. */
  resync: boolean;
}

export type Socket = WebSocket<Conn>;

/**
 * One gateway's view of the waiting room: its open sockets by sale and user, its connections per IP, and
 * the Redis pub/sub subscriber that carries ticks, admissions, claims and closings from whichever process
 * made them into the local uWS topics and sockets.
 */
export class Hub {
  app: TemplatedApp | undefined;
  readonly gatewayId = randomBytes(6).toString('hex');
  private seq = 0;
  /** One room per sale with sockets here (room.ts): the sockets by user, their tiers and topics. */
  readonly rooms = new Map<string, Room>();
  /** Open sockets per client address; the key is the one string every Conn of that address shares. */
  private readonly perIp = new Map<string, { ip: string; n: number }>();
  private subscriber: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly resolving = new Set<string>();
  /** Liveness pings for every open queue socket here, kept off the broadcasts (pinger.ts). */
  readonly pinger = new Pinger<Socket>();
  /** Set while the gateway stops: closing sockets then is not the shoppers leaving. */
  stopping = false;

  constructor(private readonly ctx: Context) {}

  private readonly noted = new Map<string, number>();
  /** Claims seen in the last seconds ("saleId|userId" -> connId), for joins still in flight here. */
  private readonly claims = new Map<string, string>();

  /**
   * Puts the sale on the ticker's list (SADD), at most once every few seconds per gateway rather than
   * once per join. The ticker removes closed sales itself.
   */
  async noteSale(saleId: string): Promise<void> {
    const now = Date.now();
    if ((this.noted.get(saleId) ?? 0) > now - 5000) return;
    this.noted.set(saleId, now);
    try {
      await this.ctx.redis.sadd(queueSalesKey(this.ctx.config.redisPrefix), saleId);
    } catch (err) {
      this.noted.delete(saleId);
      throw err;
    }
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** The connection id recorded in Redis (wr:conn): unique across gateways. */
  connIdOf(c: Conn): string {
    return `${this.gatewayId}:${c.seq}`;
  }

  /** The sale's room here, made on first use. */
  room(sale: Sale): Room {
    let room = this.rooms.get(sale.id);
    if (!room) this.rooms.set(sale.id, (room = new Room(sale.id, tierLayout(sale.admission.batchSize, sale.admission.intervalMs))));
    return room;
  }

  /** Open sockets on this gateway (counted by their IP slots). */
  get connectionCount(): number {
    let n = 0;
    for (const slot of this.perIp.values()) n += slot.n;
    return n;
  }

  /** Takes a connection slot for `ip`; null when the IP is at its cap, else the shared string for `ip`. */
  takeIp(ip: string): string | null {
    const slot = this.perIp.get(ip);
    if (slot && slot.n >= this.ctx.config.maxConnectionsPerIp) return null;
    if (slot) slot.n += 1;
    else this.perIp.set(ip, { ip, n: 1 });
    return slot ? slot.ip : ip;
  }

  releaseIp(ip: string): void {
    const slot = this.perIp.get(ip);
    if (!slot) return;
    slot.n -= 1;
    if (slot.n <= 0) this.perIp.delete(ip);
  }

  /** Sends one message; notes a drop under backpressure so the socket is resynced when it drains. */
  send(ws: Socket, text: string): void {
    const c = ws.getUserData();
    if (c.closed) return;
    if (ws.send(text) === 2) c.resync = true;
  }

  /** Sends, then closes cleanly (the close frame follows the message). */
  end(ws: Socket, text: string | null, code: number, reason: string): void {
    const c = ws.getUserData();
    if (c.closed) return;
    ws.cork(() => {
      if (text) ws.send(text);
      ws.end(code, reason);
    });
  }

  /**
   * Makes `ws` the user's one socket for the sale on this gateway and closes an older one here; when the
   * place was held by a connection elsewhere (`previousConn`), tells every gateway to close it.
   */
  register(ws: Socket, previousConn?: string): void {
    const c = ws.getUserData();
    const saleId = c.room.saleId;
    if (this.rooms.get(saleId) !== c.room) this.rooms.set(saleId, c.room); // the sale closed here and a join came back
    const users = c.room.users;
    const old = users.get(c.userId);
    if (old && old !== ws) {
      c.room.unplace(old);
      this.end(old, msg.error('replaced', 'a newer connection took this place'), CLOSE.replaced, 'replaced');
    }
    users.set(c.userId, ws);
    const connId = this.connIdOf(c);
    const claimed = this.claims.get(`${saleId}|${c.userId}`);
    if (claimed && claimed !== connId) void this.checkCurrent(ws);
    if (!previousConn || (old && this.connIdOf(old.getUserData()) === previousConn)) return;
    void publish(this.ctx.redis, channels(this.ctx.config.redisPrefix).claim, `${saleId}|${c.userId}|${connId}`).catch(() => {});
  }

  /**
   * A claim from another gateway can overtake the reply to our own join (two Redis connections): when one
   * came in just before this socket registered, ask Redis which connection is the user's current one.
   */
  private async checkCurrent(ws: Socket): Promise<void> {
    const c = ws.getUserData();
    const current = await this.ctx.redis.hget(queueKeys(this.ctx.config.redisPrefix, c.room.saleId).conn, c.userId);
    if (current && current !== this.connIdOf(c) && this.unregister(ws)) {
      this.end(ws, msg.error('replaced', 'a newer connection took this place'), CLOSE.replaced, 'replaced');
    }
  }

  /** Removes `ws` if it is still the user's socket here; true when it was. */
  unregister(ws: Socket): boolean {
    const c = ws.getUserData();
    c.room.unplace(ws);
    if (c.room.users.get(c.userId) !== ws) return false;
    c.room.users.delete(c.userId);
    return true;
  }

  /** Tells a socket where it stands (after a join, a status request or a resync). */
  deliver(ws: Socket, place: Place, first: boolean): void {
    const c = ws.getUserData();
    if (c.closed) return;
    const room = c.room;
    room.advance(place.serving);
    switch (place.kind) {
      case 'closed':
        moveSocket(c, 'done');
        room.unplace(ws);
        this.end(ws, msg.closed(), CLOSE.saleClosed, 'sale closed');
        return;
      case 'admitted':
        moveSocket(c, 'admitted');
        room.unplace(ws);
        c.ticket = place.ticket;
        this.send(ws, msg.admitted(place.admissionToken!, place.admissionExpiresAt!));
        return;
      case 'none':
        moveSocket(c, 'done');
        room.unplace(ws);
        this.send(ws, msg.error('not_queued', 'you have no place in this queue (admission used or expired); send {"type":"join"} to queue again'));
        return;
      default:
        moveSocket(c, place.kind);
        if (place.kind === 'pre' || place.ticket === null) {
          if (c.tier !== PRE_TIER) room.placePre(ws);
          c.ticket = null;
        } else if (c.tier < 0 || c.ticket !== place.ticket) {
          room.place(ws, place.ticket);
        }
        this.send(ws, first ? msg.queued(place) : msg.position(place.position, place.etaSeconds));
        if (place.soldOut) this.send(ws, msg.soldOut(place.soldOut === 2));
    }
  }

  /** Closes every local socket of a sale with {"type":"closed"}. */
  closeSale(saleId: string): void {
    const room = this.rooms.get(saleId);
    if (!room) return;
    this.rooms.delete(saleId);
    const sockets = [...room.users.values()];
    room.clear();
    for (const ws of sockets) {
      moveSocket(ws.getUserData(), 'done');
      this.end(ws, msg.closed(), CLOSE.saleClosed, 'sale closed');
    }
  }

  /** Sends `text` to every socket of a user here (any sale). */
  toUser(userId: string, text: string): void {
    for (const room of this.rooms.values()) {
      const ws = room.users.get(userId);
      if (ws) this.send(ws, text);
    }
  }

  /** The shuffle gave these users their tickets: tell the ones connected here. */
  private handOut(saleId: string, step: { serving: number; perSecond: number; soldOut: number; tickets: Array<[string, number]> }): void {
    const room = this.rooms.get(saleId);
    if (!room || room.pending.size === 0) return;
    room.advance(step.serving);
    for (const [userId, ticket] of step.tickets) {
      const ws = room.users.get(userId);
      if (!ws) continue;
      const c = ws.getUserData();
      if (c.closed || c.state !== 'pre') continue;
      moveSocket(c, 'waiting');
      room.place(ws, ticket);
      const position = positionOf(ticket, step.serving);
      this.send(ws, msg.queued({ ticket, position, etaSeconds: step.soldOut ? null : etaSeconds(position, step.perSecond) }));
    }
  }

  /**
   * Gives sockets still waiting for a ticket the one the shuffle gave them (a fallback for sockets that
   * registered after their `shuffled` step went by); runs on ticks while any are left.
   */
  async resolvePending(saleId: string): Promise<void> {
    const room = this.rooms.get(saleId);
    if (!room || room.pending.size === 0 || this.resolving.has(saleId)) return;
    const pending = [...room.pending].filter((ws) => !ws.getUserData().closed && ws.getUserData().state === 'pre');
    if (pending.length === 0) return;
    this.resolving.add(saleId);
    try {
      const sale = await getSale(this.ctx, saleId);
      if (!sale) return;
      const parts = [];
      for (let i = 0; i < pending.length; i += 1000) parts.push(pending.slice(i, i + 1000));
      const replies = await Promise.all(parts.map((part) => ticketsOf(this.ctx, saleId, part.map((ws) => ws.getUserData().userId))));
      parts.forEach((part, p) => {
        const r = replies[p];
        const rate = perSecond(sale, r.rateMilli);
        part.forEach((ws, j) => {
          const c = ws.getUserData();
          const ticket = r.tickets[j];
          if (c.closed || c.state !== 'pre' || ticket === null) return;
          moveSocket(c, 'waiting');
          room.advance(r.serving);
          room.place(ws, ticket);
          const position = positionOf(ticket, r.serving);
          this.send(ws, msg.queued({ ticket, position, etaSeconds: r.soldOut ? null : etaSeconds(position, rate) }));
        });
      });
    } finally {
      this.resolving.delete(saleId);
    }
  }

  private onMessage(channel: string, message: string): void {
    const ch = channels(this.ctx.config.redisPrefix);
    if (channel === ch.broadcast) {
      const a = message.indexOf('|');
      const b = message.indexOf('|', a + 1);
      const saleId = message.slice(0, a);
      const kind = message.slice(a + 1, b);
      const payload = message.slice(b + 1);
      if (kind === 'closed') return this.closeSale(saleId);
      const room = this.rooms.get(saleId);
      if ((kind === 'tick' || kind === 'refresh') && room && this.app) {
        this.pinger.noteBroadcast();
        room.round(this.app, JSON.parse(payload) as Round, kind === 'refresh');
      }
      if (kind === 'sold_out' && room && this.app) {
        this.pinger.noteBroadcast();
        room.publishAll(this.app, payload);
      }
      if (kind === 'shuffled') this.handOut(saleId, JSON.parse(payload));
      if (kind === 'tick') void this.resolvePending(saleId).catch((err) => this.ctx.log.warn({ err, saleId }, 'resolving tickets failed'));
    } else if (channel === ch.admitted) {
      const { saleId, grants } = JSON.parse(message) as { saleId: string; grants: Grant[] };
      const room = this.rooms.get(saleId);
      if (!room) return;
      for (const [userId, token, expiresAt, ticket] of grants) {
        const ws = room.users.get(userId);
        if (!ws) continue;
        const c = ws.getUserData();
        // admitted in the very tick that gave a pre-start joiner their ticket: tell the ticket first
        if (c.state === 'pre') this.send(ws, msg.queued({ ticket, position: 1, etaSeconds: 0 }));
        moveSocket(c, 'admitted');
        room.unplace(ws);
        c.ticket = ticket;
        this.send(ws, msg.admitted(token, expiresAt));
      }
    } else if (channel === ch.claim) {
      const [saleId, userId, connId] = message.split('|');
      const key = `${saleId}|${userId}`;
      this.claims.set(key, connId);
      if (this.claims.size > 10_000) this.claims.delete(this.claims.keys().next().value!);
      setTimeout(() => this.claims.get(key) === connId && this.claims.delete(key), 10_000).unref();
      const ws = this.rooms.get(saleId)?.users.get(userId);
      if (ws && this.connIdOf(ws.getUserData()) !== connId) {
        this.unregister(ws);
        this.end(ws, msg.error('replaced', 'a newer connection took this place'), CLOSE.replaced, 'replaced');
      }
    } else if (channel === ch.user) {
      const { userId, message: m } = JSON.parse(message) as { userId: string; message: unknown };
      this.toUser(String(userId), JSON.stringify(m));
    } else if (channel === saleStatusChannel(this.ctx.config.redisPrefix)) {
      const { saleId, status } = JSON.parse(message) as { saleId: string; status: string };
      if (status === 'closed' || status === 'cancelled') this.closeSale(String(saleId));
    }
  }

  /** Subscribes to the waiting room's channels and starts the liveness heartbeat. */
  async start(): Promise<void> {
    const ch = channels(this.ctx.config.redisPrefix);
    this.subscriber = this.ctx.newRedis('subscriber');
    const all = [ch.broadcast, ch.admitted, ch.claim, ch.user, saleStatusChannel(this.ctx.config.redisPrefix)];
    await subscribe(this.subscriber, all, (channel, message) => {
      try {
        this.onMessage(channel, message);
      } catch (err) {
        this.ctx.log.warn({ err, channel }, 'waiting-room message failed');
      }
    });
    // after a lost subscriber connection, catch up on what may have been missed meanwhile
    this.subscriber.on('ready', () => void this.catchUp().catch((err) => this.ctx.log.warn({ err }, 'waiting-room catch-up failed')));
    const every = Math.min(10_000, Math.max(100, Math.floor(graceMs(this.ctx) / 4)));
    this.heartbeat = setInterval(() => {
      for (const [saleId, room] of this.rooms) {
        if (room.users.size > 0) void refreshSeen(this.ctx, saleId, [...room.users.keys()]).catch((err) => this.ctx.log.warn({ err, saleId }, 'heartbeat failed'));
      }
    }, every);
    this.heartbeat.unref();
    this.pinger.start();
  }

  /**
   * Pub/sub has no replay: after the subscriber reconnects, look up what a lost message would have said:
   * closed sales, admissions of users connected here, tickets of pre-start joiners.
   */
  async catchUp(): Promise<void> {
    for (const [saleId, room] of this.rooms) {
      const sale = await getSale(this.ctx, saleId);
      if (!sale || saleEnded(sale, Date.now())) {
        this.closeSale(saleId);
        continue;
      }
      const waiting = [...room.users.values()].filter((ws) => ['pre', 'waiting'].includes(ws.getUserData().state));
      for (let i = 0; i < waiting.length; i += 1000) {
        const part = waiting.slice(i, i + 1000);
        const grants = await this.ctx.redis.hmget(queueKeys(this.ctx.config.redisPrefix, saleId).grants, ...part.map((ws) => ws.getUserData().userId));
        part.forEach((ws, j) => {
          const grant = grants[j];
          if (!grant || ws.getUserData().closed) return;
          const [token, expiresAt] = grant.split('|');
          moveSocket(ws.getUserData(), 'admitted');
          room.unplace(ws);
          this.send(ws, msg.admitted(token, expiresAt));
        });
      }
      await this.resolvePending(saleId);
    }
  }

  /** Closes every socket (going away) and stops listening. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.pinger.stop();
    for (const room of this.rooms.values()) {
      for (const ws of [...room.users.values()]) this.end(ws, null, CLOSE.goingAway, 'server stopping');
      room.clear();
    }
    this.rooms.clear();
    await this.subscriber?.quit().catch(() => {});
    this.subscriber = undefined;
  }
}
