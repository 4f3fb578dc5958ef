import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { eventsByReservation } from '../test/holds.js';
import { saleKeys } from './keys.js';
import { makeSale, makeUsers } from '../test/sales.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('oversell', () => {
  it('100 units, perUserLimit 2, 500 users firing 2,000 concurrent requests: exactly 100 held, nobody over 2, the rest sold_out or limit_reached', async () => {
    const users = await makeUsers(t.ctx, 500);
    const { saleId } = await makeSale(t, { quantity: 100, perUserLimit: 2 });
    const requests = Array.from({ length: 2000 }, (_, i) => users[i % 500]);
    const answers = await Promise.all(
      requests.map(async (u) => {
        const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 } });
        return { user: u.id, status: r.status, code: r.body?.error?.code as string | undefined, rid: r.body?.reservationId as string | undefined };
      }),
    );
    const ok = answers.filter((a) => a.status === 201);
    expect(ok).toHaveLength(100);
    expect(new Set(ok.map((a) => a.rid)).size).toBe(100);
    const perUser = new Map<string, number>();
    for (const a of ok) perUser.set(a.user, (perUser.get(a.user) ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(2);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.every((a) => a.status === 409 && (a.code === 'sold_out' || a.code === 'limit_reached'))).toBe(true);
    expect(refused.some((a) => a.code === 'sold_out')).toBe(true);

    const k = saleKeys(t.config.redisPrefix, saleId);
    const r = t.ctx.redis;
    expect(await r.get(k.stock)).toBe('0');
    expect(await r.hget(k.stats, 'held')).toBe('100');
    expect(await r.zcard(k.holds)).toBe(100);
    const counted = Object.values(await r.hgetall(k.users)).map(Number);
    expect(counted.reduce((s, n) => s + n, 0)).toBe(100);
    expect(Math.max(...counted)).toBeLessThanOrEqual(2);
    const reserved = (await eventsByReservation(r, k)).filter((e) => e.startsWith('reserved '));
    expect(reserved).toHaveLength(100); // one per reservation (the reservations of a batch share one entry)
    expect(new Set(reserved.map((e) => e.split(' ')[1]))).toEqual(new Set(ok.map((a) => a.rid)));
    expect(await r.hlen(k.records)).toBe(100);
    // The server still answers.
    expect((await t.api('GET', `/api/sales/${saleId}`)).body.remaining).toBe(0);
  });
});
