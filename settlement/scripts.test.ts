import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../reservation/index.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { holdStatus } from '../test/holds.js';
import { settlementSaleKeys, type SettlementSaleKeys } from './keys.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

let seq = 0;
async function sale(quantity = 10): Promise<SettlementSaleKeys> {
  const id = String(++seq);
  const k = settlementSaleKeys(world.config.redisPrefix, id);
  const now = Date.now();
  await runScript(world.ctx.redis, 'open-sale', [k.meta, k.stock, k.stats], [
    quantity, 'id', id, 'priceCents', 250, 'productId', 7, 'perUserLimit', 5, 'holdSeconds', 60, 'startsAt', now - 1000, 'endsAt', now + 3600_000,
  ]);
  return k;
}
const r = () => world.ctx.redis;
const reserve = async (k: SettlementSaleKeys, user: string, qty = 1) =>
  (await runScript<[string, string]>(r(), 'reserve', [k.meta, k.stock, k.holds, k.users, k.idem, k.stats, k.events], [user, qty, Date.now(), '', '', 60]))[1];
const begin = (k: SettlementSaleKeys, rid: string, user: string, key: string, now = Date.now()) =>
  runScript<[string, string, number, number, string, number, string, string]>(r(), 'begin-checkout', [k.meta, k.holds, k.paying], [rid, user, now, key, randomUUID(), 'pm_card_ok']);
const markSold = (k: SettlementSaleKeys, ...rids: string[]) => runScript<string[]>(r(), 'mark-sold', [k.meta, k.stats, k.paying, k.events, k.sold], rids);
const fail = (k: SettlementSaleKeys, rid: string) => runScript<string>(r(), 'fail-checkout', [k.meta, k.stock, k.holds, k.users, k.stats, k.events, k.paying], [rid]);
const counters = async (k: SettlementSaleKeys) => ({ stock: Number(await r().get(k.stock)), ...(await r().hgetall(k.stats)) });

describe('begin-checkout-3.lua', () => {
  it('moves a held hold to paying (out of the sweeper zset), once per key; another key conflicts', async () => {
    const k = await sale();
    const rid = await reserve(k, 'u1', 2);
    const ok = await begin(k, rid, 'u1', 'key-a');
    expect(ok.slice(0, 5)).toEqual(['OK', ok[1], 2, 250, '7']);
    expect(await r().zscore(k.holds, rid)).toBeNull();
    expect(await r().zscore(k.paying, rid)).not.toBeNull();
    expect(await holdStatus(r(), k, rid)).toBe('paying');
    const again = await begin(k, rid, 'u1', 'key-a');
    expect([again[0], again[1], again[6]]).toEqual(['DUPLICATE', ok[1], 'paying']);
    expect((await begin(k, rid, 'u1', 'key-b'))[0]).toBe('CONFLICT');
    expect(await counters(k)).toMatchObject({ stock: 8, held: '2', sold: '0' });
  });

  it("refuses someone else's hold, an unknown one, an expired one and a released one", async () => {
    const k = await sale();
    const rid = await reserve(k, 'u1');
    expect((await begin(k, rid, 'u2', 'k'))[0]).toBe('NOT_FOUND');
    expect((await begin(k, `${seq}-999`, 'u1', 'k'))[0]).toBe('NOT_FOUND');
    expect((await begin(k, rid, 'u1', 'k', Date.now() + 61_000))[0]).toBe('EXPIRED');
    await runScript(r(), 'release', [k.meta, k.stock, k.holds, k.users, k.stats, k.events], [rid, 'u1', '0']);
    const released = await begin(k, rid, 'u1', 'k');
    expect([released[0], released[6]]).toEqual(['EXPIRED', 'released']);
  });

  it('a paying hold is left alone by the expiry sweeper and by the shopper releasing it', async () => {
    const k = await sale();
    const rid = await reserve(k, 'u1');
    await begin(k, rid, 'u1', 'k');
    expect(await runScript(r(), 'expire', [k.meta, k.stock, k.holds, k.users, k.stats, k.events], [Date.now() + 3600_000, 100])).toBe(0);
    expect(await runScript(r(), 'release', [k.meta, k.stock, k.holds, k.users, k.stats, k.events], [rid, 'u1', '0'])).toEqual(['BUSY']);
    expect(await holdStatus(r(), k, rid)).toBe('paying');
  });
});

describe('mark-sold-5.lua and fail-checkout-7.lua', () => {
  it('mark-sold moves units from held to sold once, records the sold set, and leaves odd holds untouched', async () => {
    const k = await sale(10);
    const a = await reserve(k, 'u1', 2);
    const b = await reserve(k, 'u2');
    await begin(k, a, 'u1', 'k');
    expect(await markSold(k, a, b, `${seq}-404`)).toEqual(['SOLD', 'held', 'MISSING']);
    expect(await markSold(k, a)).toEqual(['ALREADY']);
    expect(await counters(k)).toMatchObject({ stock: 7, held: '1', sold: '2' });
    expect(await r().smembers(k.sold)).toEqual([a]);
    expect(await r().zcard(k.paying)).toBe(0);
  });

  it('fail-checkout gives the units back once and never releases a sold hold', async () => {
    const k = await sale(10);
    const a = await reserve(k, 'u1', 3);
    const b = await reserve(k, 'u2');
    await begin(k, a, 'u1', 'k');
    await begin(k, b, 'u2', 'k');
    await markSold(k, b);
    expect(await fail(k, a)).toBe('RELEASED');
    expect(await fail(k, a)).toBe('ALREADY');
    expect(await fail(k, b)).toBe('SOLD');
    expect(await fail(k, `${seq}-404`)).toBe('MISSING');
    expect(await counters(k)).toMatchObject({ stock: 9, held: '0', sold: '1' });
    expect(await r().hget(k.users, 'u1')).toBe('0');
    expect(await r().zcard(k.paying)).toBe(0);
  });
});
