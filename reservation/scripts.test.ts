import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { saleKeys } from './keys.js';
import { runScript } from './scripts.js';

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
  await runScript(world.ctx.redis, 'open-sale', [k.meta, k.stock, k.stats], [
    quantity, 'id', id, 'perUserLimit', perUserLimit, 'holdSeconds', 60, 'startsAt', now - 1000, 'endsAt', now + 3600_000,
  ]);
  return k;
}

const reserveKeys = (k: ReturnType<typeof saleKeys>) => [k.meta, k.stock, k.holds, k.users, k.idem, k.stats, k.events];

describe('reserve-7.lua', () => {
  it('decrements stock, records a hold, and refuses past stock and past the limit', async () => {
    const k = await openSale('1', 3, 2);
    const r = world.ctx.redis;
    const a = await runScript<[string, string, number, number]>(r, 'reserve', reserveKeys(k), ['u1', 2, Date.now(), '', '', 60]);
    expect(a[0]).toBe('OK');
    expect(a[1]).toBe('1-1');
    expect(await r.get(k.stock)).toBe('1');
    const limit = await runScript<[string]>(r, 'reserve', reserveKeys(k), ['u1', 1, Date.now(), '', '', 60]);
    expect(limit[0]).toBe('LIMIT');
    const sold = await runScript<[string]>(r, 'reserve', reserveKeys(k), ['u2', 2, Date.now(), '', '', 60]);
    expect(sold[0]).toBe('SOLD_OUT');
  });
});
