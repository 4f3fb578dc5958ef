import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineLua, registeredLua } from '../infra/lua.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { eventsByReservation, holdStatus, setHoldStatus } from '../test/holds.js';
import { saleKeys } from './keys.js';
import { closeSaleScript, expireScript, openSaleScript, releaseScript, reserveBatchScript, reserveKeys, reserveScript, type ReserveReply } from './scripts.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

async function openSale(id: string, quantity: number, perUserLimit = 2) {
  const k = saleKeys(world.config.redisPrefix, id);
  const now = Date.now();
  await openSaleScript(world.ctx.redis, k, quantity, ['id', id, 'perUserLimit', perUserLimit, 'holdSeconds', 60, 'startsAt', now - 1000, 'endsAt', now + 3600_000]);
  return k;
}

/** Odd quantities (strings, fractions) are passed through as they are: the script must refuse them. */
const reserveAs = (k: ReturnType<typeof saleKeys>, user: string, qty: number | string, o: { now?: number; idem?: string; jti?: string } = {}): Promise<ReserveReply> =>
  reserveScript(world.ctx.redis, reserveKeys(k), { userId: user, quantity: qty as number, idempotencyKey: o.idem ?? '', jti: o.jti ?? '', markerSeconds: 60 }, o.now ?? Date.now());

describe('reserve-7.lua', () => {
  it('decrements stock, records a hold, and refuses past stock and past the limit', async () => {
    const k = await openSale('1', 3, 2);
    const r = world.ctx.redis;
    const a = await reserveAs(k, 'u1', 2);
    expect(a[0]).toBe('OK');
    expect(a[1]).toBe('1-1');
    expect(await r.get(k.stock)).toBe('1');
    const limit = await reserveAs(k, 'u1', 1);
    expect(limit[0]).toBe('LIMIT');
    const sold = await reserveAs(k, 'u2', 2);
    expect(sold[0]).toBe('SOLD_OUT');
  });
});


describe('reserve-7.lua edge cases', () => {
  it('refuses a sale that is not open: never opened, before its start, at its end, closed', async () => {
    const r = world.ctx.redis;
    const never = saleKeys(world.config.redisPrefix, '90');
    expect((await reserveAs(never, 'u1', 1))[0]).toBe('NOT_OPEN');
    const k = saleKeys(world.config.redisPrefix, '91');
    const start = Date.now() + 10_000;
    await openSaleScript(r, k, 5, ['id', '91', 'perUserLimit', 2, 'holdSeconds', 60, 'startsAt', start, 'endsAt', start + 1000]);
    expect((await reserveAs(k, 'u1', 1, { now: start - 1 }))[0]).toBe('NOT_OPEN');
    expect((await reserveAs(k, 'u1', 1, { now: start }))[0]).toBe('OK');
    expect((await reserveAs(k, 'u1', 1, { now: start + 1000 }))[0]).toBe('NOT_OPEN');
    expect(await closeSaleScript(r, k, 'closed')).toBe('open');
    expect((await reserveAs(k, 'u2', 1, { now: start + 10 }))[0]).toBe('NOT_OPEN');
    expect(await r.get(k.stock)).toBe('4');
  });

  it('takes exactly the last units, never goes below zero, and refuses bad quantities', async () => {
    const k = await openSale('92', 3, 5);
    expect((await reserveAs(k, 'u1', 4))[0]).toBe('SOLD_OUT');
    expect((await reserveAs(k, 'u1', 3))[0]).toBe('OK');
    expect((await reserveAs(k, 'u2', 1))[0]).toBe('SOLD_OUT');
    for (const bad of [0, -1, 1.5, 'x', '', 'nan', '-inf']) expect((await reserveAs(k, 'u3', bad))[0]).toBe('INVALID');
    expect(await world.ctx.redis.get(k.stock)).toBe('0');
  });

  it('the same idempotency key gives the first answer again, even after the sale closed, with one decrement', async () => {
    const r = world.ctx.redis;
    const k = await openSale('93', 10, 2);
    const a = await reserveAs(k, 'u1', 2, { idem: 'key' });
    const b = await reserveAs(k, 'u1', 2, { idem: 'key' });
    expect(b).toEqual(['DUPLICATE', a[1], 2, a[3]]);
    await closeSaleScript(r, k, 'closed');
    expect((await reserveAs(k, 'u1', 2, { idem: 'key' }))[0]).toBe('DUPLICATE');
    expect(await r.get(k.stock)).toBe('8');
    expect(await r.hget(k.stats, 'held')).toBe('2');
    expect(await r.xlen(k.events)).toBe(1);
  });

  it('spends an admission token once, and only on success', async () => {
    const r = world.ctx.redis;
    const k = await openSale('94', 1, 1);
    expect((await reserveAs(k, 'u1', 1, { jti: 'j1' }))[0]).toBe('OK');
    expect(await r.ttl(k.admission('j1'))).toBeGreaterThan(0);
    expect((await reserveAs(k, 'u1', 1, { jti: 'j1' }))[0]).toBe('NOT_ADMITTED');
    expect((await reserveAs(k, 'u2', 1, { jti: 'j2' }))[0]).toBe('SOLD_OUT');
    expect(await r.exists(k.admission('j2'))).toBe(0);
  });
});

describe('release-6.lua and expire-6.lua', () => {
  it('release: owner only, once, refuses a hold being paid for unless told, and refuses a sold one', async () => {
    const r = world.ctx.redis;
    const k = await openSale('95', 5, 5);
    const [, rid] = await reserveAs(k, 'u1', 2);
    expect(await releaseScript(r, k, rid, 'u2')).toBe('NOT_FOUND');
    expect(await releaseScript(r, k, '95-999', '')).toBe('NOT_FOUND');
    expect(await releaseScript(r, k, rid, 'u1')).toBe('OK');
    expect(await releaseScript(r, k, rid, 'u1')).toBe('OK');
    expect(await r.get(k.stock)).toBe('5');
    expect(await r.hget(k.users, 'u1')).toBe('0');
    expect(await r.hget(k.stats, 'held')).toBe('0');

    const [, paying] = await reserveAs(k, 'u1', 1);
    await setHoldStatus(r, k, paying, 'paying');
    await r.zrem(k.holds, paying);
    expect(await releaseScript(r, k, paying, 'u1')).toBe('BUSY');
    expect(await releaseScript(r, k, paying, '', true)).toBe('OK');
    const [, sold] = await reserveAs(k, 'u1', 1);
    await setHoldStatus(r, k, sold, 'sold');
    expect(await releaseScript(r, k, sold, '', true)).toBe('BUSY');
    expect(await r.get(k.stock)).toBe('4');
  });

  it('expire: only holds whose time is up, at most the batch size, never one being paid for', async () => {
    const r = world.ctx.redis;
    const k = await openSale('96', 10, 10);
    const now = Date.now();
    for (let i = 0; i < 4; i++) await reserveAs(k, `u${i}`, 1, { now });
    const [, paying] = await reserveAs(k, 'p', 1, { now });
    await setHoldStatus(r, k, paying, 'paying');
    await r.zrem(k.holds, paying);
    expect(await expireScript(r, k, now + 59_999, 100)).toBe(0);
    expect(await expireScript(r, k, now + 60_000, 3)).toBe(3);
    expect(await expireScript(r, k, now + 60_000, 3)).toBe(1);
    expect(await expireScript(r, k, now + 60_000, 3)).toBe(0);
    expect(await r.get(k.stock)).toBe('9');
    expect(await r.hget(k.stats, 'held')).toBe('1');
    expect(await holdStatus(r, k, paying)).toBe('paying');
    expect(await holdStatus(r, k, '96-1')).toBe('expired');
  });
});

describe('open-sale-3.lua and close-sale-1.lua', () => {
  it('opening again keeps the stock as it is, and a closed sale is never reopened', async () => {
    const r = world.ctx.redis;
    const k = await openSale('97', 5, 5);
    await reserveAs(k, 'u1', 2);
    await openSale('97', 5, 5);
    expect(await r.get(k.stock)).toBe('3');
    expect(await closeSaleScript(r, k, 'closed')).toBe('open');
    expect(await closeSaleScript(r, k, 'cancelled')).toBe('closed');
    expect(await r.hget(k.meta, 'status')).toBe('closed');
    expect(await openSaleScript(r, k, 5, ['id', '97'])).toBe('closed');
    expect(await closeSaleScript(world.ctx.redis, saleKeys(world.config.redisPrefix, '98'), 'cancelled')).toBe('');
  });
});

describe('reserve-batch-7.lua', () => {
  it('answers a batch exactly as the same requests one by one: limit, idempotency, admission and sell-out inside one call', async () => {
    const r = world.ctx.redis;
    const requests: Array<[string, number | string, string, string]> = [
      ['a', 1, 'k1', ''], ['a', 1, 'k1', ''], ['a', 1, '', ''], ['a', 1, '', ''], ['f', 1, '', 'j1'], ['g', 1, '', 'j1'],
      ['b', 2, 'k2', ''], ['c', 2, '', ''], ['d', 1, '', ''], ['e', 0, '', ''], ['h', 'nan', '', ''], ['b', 2, 'k2', ''],
    ];
    const now = Date.now();
    const one = await openSale('80', 6, 2);
    const expected: ReserveReply[] = [];
    for (const [u, q, idem, jti] of requests) expected.push(await reserveAs(one, u, q, { now, idem, jti }));
    const many = await openSale('81', 6, 2);
    const batch = requests.map(([u, q, idem, jti]) => ({ userId: u, quantity: q as number, idempotencyKey: idem, jti, markerSeconds: 60 }));
    const got = await reserveBatchScript(r, reserveKeys(many), batch, now);
    expect(got.map((g) => g[0])).toEqual(['OK', 'DUPLICATE', 'OK', 'LIMIT', 'OK', 'NOT_ADMITTED', 'OK', 'SOLD_OUT', 'OK', 'INVALID', 'INVALID', 'DUPLICATE']);
    expect(got.map((g) => [g[0], String(g[1]).replace(/^81-/, '80-'), g[2], g[3]])).toEqual(expected);
    expect(await r.get(many.stock)).toBe('0');
    expect(await r.hget(many.stats, 'held')).toBe('6');
    // The whole state is the same as after the one-by-one calls.
    const state = async (k: ReturnType<typeof saleKeys>) => ({
      users: await r.hgetall(k.users),
      holds: (await r.zrange(k.holds, '0', '-1', 'WITHSCORES')).map((x) => x.replace(/^81-/, '80-')),
      idem: Object.fromEntries(Object.entries(await r.hgetall(k.idem)).map(([f, v]) => [f, v.replace(/^81-/, '80-')])),
      seq: await r.get(k.seq),
      events: (await eventsByReservation(r, k)).map((e) => e.replace(/81-/, '80-')),
      marker: ((await r.get(k.admission('j1'))) ?? '').replace(/^81-/, '80-'),
      records: Object.fromEntries(Object.entries(await r.hgetall(k.records)).map(([f, v]) => [f.replace(/^81-/, '80-'), v])),
    });
    expect(await state(many)).toEqual(await state(one));
  });
});

describe('the self-batched scripts', () => {
  it('reserve, reserve-batch and cart-batch go past auto-pipelining on the engine client; the others do not', async () => {
    await import('../storefront/index.js'); // registers the cart scripts
    defineLua(world.ctx.redis);
    const ignored = world.ctx.redis.options.autoPipeliningIgnoredCommands ?? [];
    for (const name of ['reserve', 'reserve-batch', 'cart-batch']) expect(ignored).toContain(registeredLua(name)!.command);
    for (const name of ['release', 'cart-apply', 'queue-join']) expect(ignored).not.toContain(registeredLua(name)?.command ?? name);
  });
});
