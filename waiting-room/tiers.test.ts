import { describe, expect, it } from 'vitest';
import type { TemplatedApp } from '../infra/uws.js';
import type { Conn, Socket } from './hub.js';
import { NO_TIER, Room } from './room.js';
import { dueGroups, MAX_REFRESH_MS, refreshMs, tierLayout, tierOf } from './tiers.js';

/** A socket that only records its one subscription (what Room uses of uWS). */
function fakeSocket(ticket: number) {
  const data = { ticket: null, tier: NO_TIER, closed: false } as unknown as Conn;
  const ws = {
    topic: null as string | null,
    ticket,
    getUserData: () => data,
    subscribe(t: string) {
      if (this.topic) throw new Error(`already in ${this.topic}, subscribing to ${t}`);
      this.topic = t;
      return true;
    },
    unsubscribe(t: string) {
      if (this.topic !== t) throw new Error(`not in ${t}`);
      this.topic = null;
      return true;
    },
  };
  return ws;
}

/** An app whose publish delivers to the fake sockets subscribed to the topic. */
function fakeApp(sockets: Array<ReturnType<typeof fakeSocket>>, onFrame: (ws: ReturnType<typeof fakeSocket>, text: string) => void) {
  let publishes = 0;
  const app = {
    publish(topic: string, text: string) {
      publishes += 1;
      for (const ws of sockets) if (ws.topic === topic) onFrame(ws, text);
      return true;
    },
  } as unknown as TemplatedApp;
  return { app, publishes: () => publishes };
}

describe('waiting-room tiers', () => {
  it('the layout: the head is three batches and gets every tick; farther tiers every 2nd, 4th... tick, never longer than 4 s', () => {
    const l = tierLayout(100, 1000);
    expect(l.periods).toEqual([1, 2, 4]);
    expect(l.bounds).toEqual([300, 1200, Infinity]);
    expect([1, 300, 301, 1200, 1201, 100_000].map((d) => tierOf(l, d))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(l.periods.map((_, i) => refreshMs(l, i))).toEqual([1000, 2000, 4000]);
    const fast = tierLayout(10, 100);
    expect(fast.periods).toEqual([1, 2, 4, 8, 16, 32]);
    expect(Math.max(...fast.periods.map((_, i) => refreshMs(fast, i)))).toBeLessThanOrEqual(MAX_REFRESH_MS);
    expect(tierLayout(100, 10_000).periods).toEqual([1]); // slow ticks: everyone, plus refreshes between (ticker.ts)
  });

  it('each tick is due one group per tier; missed ticks are caught up, at most every group once', () => {
    const l = tierLayout(100, 1000);
    expect(dueGroups(l, 6, 7)).toEqual([[0], [1], [3]]);
    expect(dueGroups(l, null, 8)).toEqual([[0], [0], [0]]);
    expect(dueGroups(l, 7, 9)).toEqual([[0], [0, 1], [0, 1]]);
    expect(dueGroups(l, 0, 20)[2].sort()).toEqual([0, 1, 2, 3]);
    expect(dueGroups(l, 9, 9)).toEqual([[], [], []]);
  });

  it('8,000 waiting sockets: the head gets every tick, nobody waits more than 4 ticks, sockets move nearer as the line moves, one publish per due topic', () => {
    const layout = tierLayout(100, 1000);
    const room = new Room('7', layout);
    const sockets = Array.from({ length: 8000 }, (_, i) => fakeSocket(i + 1));
    const heard = new Map<unknown, number[]>();
    let tick = 0;
    const { app, publishes } = fakeApp(sockets, (ws, text) => {
      expect(JSON.parse(text)).toMatchObject({ type: 'position', nextRefreshMs: expect.any(Number) });
      const h = heard.get(ws) ?? [];
      h.push(tick);
      heard.set(ws, h);
    });
    // joined in random order (as the shuffle hands tickets out)
    for (const ws of [...sockets].sort(() => Math.random() - 0.5)) room.place(ws as unknown as Socket, ws.ticket);
    const framesPerTick: number[] = [];
    const publishesPerTick: number[] = [];
    for (tick = 1; tick <= 40; tick++) {
      const serving = tick * 100;
      // the admitted leave (as the hub does on the admission message)
      for (const ws of sockets) if (ws.ticket <= serving && ws.getUserData().tier !== NO_TIER) room.unplace(ws as unknown as Socket);
      const before = [...heard.values()].reduce((a, h) => a + h.length, 0);
      const p0 = publishes();
      room.round(app, { serving, perSecond: 100, slot: 1000 + tick }, false, 0);
      framesPerTick.push([...heard.values()].reduce((a, h) => a + h.length, 0) - before);
      publishesPerTick.push(publishes() - p0);
      // the head tier: everyone within three batches heard this tick
      for (const ws of sockets) {
        if (ws.ticket > serving && ws.ticket - serving <= 300) expect(heard.get(ws)?.at(-1)).toBe(tick);
      }
    }
    for (const ws of sockets) {
      const admittedAt = Math.ceil(ws.ticket / 100);
      const h = [0, ...(heard.get(ws) ?? []).filter((t) => t < admittedAt)];
      const gaps = h.slice(1).map((t, i) => t - h[i]);
      if (admittedAt > 4) expect(Math.max(...gaps)).toBeLessThanOrEqual(4);
    }
    expect(Math.max(...publishesPerTick)).toBe(3); // one publish per tier
    // about a quarter of the far sockets per tick, not all of them
    expect(framesPerTick[5]).toBeLessThan(8000 / 3);
  });
});
