import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { holdStatus } from '../test/holds.js';
import { saleKeys, type SaleKeys } from './keys.js';
import { beginCheckout, expireScript, failCheckout, markSold as markSoldScript, openSaleScript, releaseScript, reserveKeys, reserveScript } from './scripts.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

let seq = 0;
async function sale(quantity = 10): Promise<SaleKeys> {
  const id = String(++seq);
  const k = saleKeys(world.config.redisPrefix, id);
  const now = Date.now();
  await openSaleScript(world.ctx.redis, k, quantity, [
    'id', id, 'priceCents', 250, 'productId', 7, 'perUserLimit', 5, 'holdSeconds', 60, 'startsAt', now - 1000, 'endsAt', now + 3600_000,
  ]);
  return k;
}
const r = () => world.ctx.redis;
const reserve = async (k: SaleKeys, user: string, qty = 1) =>
  (await reserveScript(r(), reserveKeys(k), { userId: user, quantity: qty, idempotencyKey: '', jti: '', markerSeconds: 60 }, Date.now()))[1];
const begin = (k: SaleKeys, rid: string, user: string, key: string, now = Date.now()) =>
  beginCheckout(r(), k, { rid, userId: user, nowMs: now, idempotencyKey: key, orderId: randomUUID(), paymentMethod: 'pm_card_ok' });
/** The client error a refused checkout throws: [code, message]. */
const refusal = (p: Promise<unknown>) => p.then(() => null, (err) => [err.code, err.message]);
const markSold = (k: SaleKeys, ...rids: string[]) => markSoldScript(r(), k, rids);
const fail = (k: SaleKeys, rid: string) => failCheckout(r(), k, rid);
const counters = async (k: SaleKeys) => ({ stock: Number(await r().get(k.stock)), ...(await r().hgetall(k.stats)) });

describe('begin-checkout-3.lua', () => {
  it('moves a held hold to paying (out of the sweeper zset), once per key; another key conflicts', async () => {
    const k = await sale();
    const rid = await reserve(k, 'u1', 2);
    const ok = await begin(k, rid, 'u1', 'key-a');
    expect(ok).toMatchObject({ status: 'OK', quantity: 2, unitPriceCents: 250, productId: '7', holdStatus: 'paying', paymentMethod: 'pm_card_ok', jobId: rid });
    expect(await r().zscore(k.holds, rid)).toBeNull();
    expect(await r().zscore(k.paying, rid)).not.toBeNull();
    expect(await holdStatus(r(), k, rid)).toBe('paying');
    const again = await begin(k, rid, 'u1', 'key-a');
    expect(again).toMatchObject({ status: 'DUPLICATE', orderId: ok.orderId, holdStatus: 'paying' });
    expect((await refusal(begin(k, rid, 'u1', 'key-b')))?.[0]).toBe('idempotency_conflict');
    expect(await counters(k)).toMatchObject({ stock: 8, held: '2', sold: '0' });
  });

  it("refuses someone else's hold, an unknown one, an expired one and a released one", async () => {
    const k = await sale();
    const rid = await reserve(k, 'u1');
    expect(await refusal(begin(k, rid, 'u2', 'k'))).toEqual(['not_found', 'reservation not found']);
    expect(await refusal(begin(k, `${seq}-999`, 'u1', 'k'))).toEqual(['not_found', 'reservation not found']);
    expect(await refusal(begin(k, rid, 'u1', 'k', Date.now() + 61_000))).toEqual(['hold_expired', 'the hold has expired']);
    await releaseScript(r(), k, rid, 'u1');
    expect(await refusal(begin(k, rid, 'u1', 'k'))).toEqual(['hold_expired', 'the hold was released']);
  });

  it('a paying hold is left alone by the expiry sweeper and by the shopper releasing it', async () => {
    const k = await sale();
    const rid = await reserve(k, 'u1');
    await begin(k, rid, 'u1', 'k');
    expect(await expireScript(r(), k, Date.now() + 3600_000, 100)).toBe(0);
    expect(await releaseScript(r(), k, rid, 'u1')).toBe('BUSY');
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
