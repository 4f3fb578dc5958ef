import { describe, expect, it } from 'vitest';
import { Pinger } from './pinger.js';

/** A socket that counts its pings. */
const fake = () => ({ pings: 0, ping() { this.pings += 1; return 1; } });
const opts = { everyMs: 1000, stepMs: 100, quietMs: 300, maxDeferMs: 500 };

describe('waiting-room pinger', () => {
  it('pings every socket once per period, in slices', () => {
    const p = new Pinger(opts);
    const socks = Array.from({ length: 50 }, fake);
    socks.forEach((s) => p.add(s));
    const slices: number[] = [];
    for (let t = 1; t <= 10; t++) slices.push(p.step(t * 100));
    expect(slices).toEqual(Array(10).fill(5));
    expect(socks.map((s) => s.pings)).toEqual(Array(50).fill(1));
    for (let t = 11; t <= 20; t++) p.step(t * 100);
    expect(socks.map((s) => s.pings)).toEqual(Array(50).fill(2));
  });

  it('holds the slices while a broadcast goes out, then catches up; never longer than maxDeferMs', () => {
    const p = new Pinger(opts);
    const socks = Array.from({ length: 100 }, fake);
    socks.forEach((s) => p.add(s));
    p.noteBroadcast(1000);
    expect([p.step(1100), p.step(1200)]).toEqual([0, 0]);
    expect(p.step(1300)).toBe(30); // quiet again: the three slices owed at once
    // broadcasts that never stop: after maxDeferMs worth of slices they go out anyway
    const sent: number[] = [];
    for (let t = 1400; t <= 2400; t += 100) {
      p.noteBroadcast(t);
      sent.push(p.step(t));
    }
    expect(sent).toEqual([0, 0, 0, 0, 50, 0, 0, 0, 0, 50, 0]);
  });

  it('skips sockets that left and pings the ones that came in', () => {
    const p = new Pinger(opts);
    const a = fake();
    const b = fake();
    const c = fake();
    p.add(a);
    p.add(b);
    for (let t = 1; t <= 10; t++) p.step(t * 100);
    p.delete(a);
    p.add(c);
    for (let t = 11; t <= 20; t++) p.step(t * 100);
    expect([a.pings, b.pings, c.pings]).toEqual([1, 2, 1]);
    expect(p.size).toBe(2);
  });
});
