import type { TemplatedApp } from '../infra/uws.js';
import type { Socket } from './hub.js';
import { msg } from './messages.js';
import { dueGroups, refreshMs, tierOfTicket, type TierLayout } from './tiers.js';

/** Conn.tier of a socket in no topic, and of one in line before the shuffle (the sale's `pre` topic). */
export const NO_TIER = -1;
export const PRE_TIER = -2;

/**
 * How long the farther tiers' frames of a tick wait after the head tier's. uWS sends what is published in
 * one event-loop turn together, in an order of its own; a tick's frames to the farther tiers (a quarter of
 * the line or more) take the box a few hundred ms, and the head tier's would be somewhere among them. Sent
 * first and alone, the head tier's frames are read before the rest go out.
 */
export const FAR_DELAY_MS = 50;

/** A tick (or, for sales ticking slower than every 4 s, a refresh) as the ticker publishes it. */
export interface Round {
  serving: number;
  perSecond: number;
  slot: number;
}

/**
 * One sale's sockets on one gateway, and their tiers (tiers.ts): each waiting socket with a ticket is
 * subscribed to exactly one uWS topic, `wr/<saleId>/<tier>/<group>`; sockets in line before the shuffle to
 * `wr/<saleId>/pre`. Waiting sockets are also kept in buckets of tickets, so that when the serving position
 * advances only the buckets that crossed a tier boundary are visited: a socket moves at most once per tier
 * in its life.
 */
export class Room {
  /** The user's one socket for this sale here. */
  readonly users = new Map<string, Socket>();
  /** Sockets in line without a ticket yet (joined before the start). */
  readonly pending = new Set<Socket>();
  /** floor(ticket / layout.bucket) -> the waiting sockets with a ticket in that bucket. */
  private readonly buckets = new Map<number, Set<Socket>>();
  /** The highest serving position seen (ticks, joins). */
  serving = 0;
  /** The slot of the last tick published here (null: none yet). */
  private lastSlot: number | null = null;
  /** topics[tier][group] */
  private readonly topics: string[][];
  private readonly preTopic: string;
  /** The farther tiers' frames of the last tick, waiting FAR_DELAY_MS behind the head's. */
  private deferred: { timer: NodeJS.Timeout; send: () => void } | null = null;

  constructor(
    readonly saleId: string,
    readonly layout: TierLayout,
  ) {
    this.topics = layout.periods.map((p, tier) => Array.from({ length: p }, (_, g) => `wr/${saleId}/${tier}/${g}`));
    this.preTopic = `wr/${saleId}/pre`;
  }

  private topicOf(tier: number, ticket: number): string {
    return tier === PRE_TIER ? this.preTopic : this.topics[tier][ticket % this.layout.periods[tier]];
  }

  /** Puts a waiting socket with a ticket into its tier's topic (moving it if it was elsewhere). */
  place(ws: Socket, ticket: number): void {
    const c = ws.getUserData();
    if (c.tier !== NO_TIER) this.unplace(ws);
    if (c.closed) return;
    c.ticket = ticket;
    const k = Math.floor(ticket / this.layout.bucket);
    let set = this.buckets.get(k);
    if (!set) this.buckets.set(k, (set = new Set()));
    set.add(ws);
    c.tier = tierOfTicket(this.layout, ticket, this.serving);
    ws.subscribe(this.topicOf(c.tier, ticket));
  }

  /** A socket in line before the shuffle: no ticket, only the sale-wide messages. */
  placePre(ws: Socket): void {
    const c = ws.getUserData();
    if (c.tier !== NO_TIER) this.unplace(ws);
    if (c.closed) return;
    this.pending.add(ws);
    c.tier = PRE_TIER;
    ws.subscribe(this.preTopic);
  }

  /** Takes a socket out of its topic (admitted, no place, closed). */
  unplace(ws: Socket): void {
    const c = ws.getUserData();
    if (c.tier === PRE_TIER) {
      this.pending.delete(ws);
    } else if (c.tier !== NO_TIER && c.ticket !== null) {
      const k = Math.floor(c.ticket / this.layout.bucket);
      const set = this.buckets.get(k);
      set?.delete(ws);
      if (set?.size === 0) this.buckets.delete(k);
    }
    if (c.tier !== NO_TIER && !c.closed) ws.unsubscribe(this.topicOf(c.tier, c.ticket ?? 0));
    c.tier = NO_TIER;
  }

  /**
   * The serving position moved to `serving`: the sockets of every bucket that crossed a tier boundary move
   * to their new tier's topic.
   */
  advance(serving: number): void {
    const from = this.serving;
    if (serving <= from) return;
    this.serving = serving;
    const { bounds, bucket } = this.layout;
    const seen = new Set<number>();
    for (let i = 0; i < bounds.length - 1; i++) {
      // buckets whose first ticket b went from b - from > bounds[i] to b - serving <= bounds[i]
      const lo = Math.floor((from + bounds[i]) / bucket) + 1;
      const hi = Math.floor((serving + bounds[i]) / bucket);
      for (let k = lo; k <= hi; k++) {
        if (seen.has(k)) continue;
        seen.add(k);
        const set = this.buckets.get(k);
        if (set) for (const ws of set) this.retier(ws);
      }
    }
  }

  private retier(ws: Socket): void {
    const c = ws.getUserData();
    if (c.closed || c.ticket === null || c.tier < 0) return;
    const tier = tierOfTicket(this.layout, c.ticket, this.serving);
    if (tier === c.tier) return;
    ws.unsubscribe(this.topicOf(c.tier, c.ticket));
    c.tier = tier;
    ws.subscribe(this.topicOf(tier, c.ticket));
  }

  /**
   * Publishes one tick: moves sockets to their tiers for the new serving position, then one frame per due
   * topic, the head first (uWS sends in publish order). `all` (a refresh between slow ticks): every topic.
   */
  round(app: TemplatedApp, r: Round, all = false, farDelayMs = FAR_DELAY_MS): number {
    this.flushDeferred();
    this.advance(r.serving);
    const due = all ? this.layout.periods.map((p) => Array.from({ length: p }, (_, g) => g)) : dueGroups(this.layout, this.lastSlot, r.slot);
    if (!all) this.lastSlot = this.lastSlot === null ? r.slot : Math.max(this.lastSlot, r.slot);
    const sends = due.map((groups, tier) => () => {
      const text = msg.serving(r.serving, r.perSecond, refreshMs(this.layout, tier));
      for (const g of groups) app.publish(this.topics[tier][g], text);
    });
    sends[0]();
    const rest = () => sends.slice(1).forEach((send) => send());
    if (farDelayMs <= 0) rest();
    else this.deferred = { timer: setTimeout(() => this.flushDeferred(), farDelayMs), send: rest };
    return due.reduce((n, groups) => n + groups.length, 0);
  }

  /** Sends the farther tiers' frames of the last tick now (a newer tick is going out). */
  private flushDeferred(): void {
    const d = this.deferred;
    if (!d) return;
    this.deferred = null;
    clearTimeout(d.timer);
    d.send();
  }

  /** Drops the farther tiers' frames still waiting (sold out or closed: they would say the line moves). */
  private dropDeferred(): void {
    if (this.deferred) clearTimeout(this.deferred.timer);
    this.deferred = null;
  }

  /** A message for every socket of the sale in line (sold out): one publish per topic. */
  publishAll(app: TemplatedApp, text: string): void {
    this.dropDeferred();
    app.publish(this.preTopic, text);
    for (const groups of this.topics) for (const t of groups) app.publish(t, text);
  }

  /** Forgets every socket (the sale closed here). */
  clear(): void {
    this.dropDeferred();
    this.users.clear();
    this.pending.clear();
    this.buckets.clear();
  }
}
