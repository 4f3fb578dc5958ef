import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type Context } from '../infra/context.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { activeSalesKey, saleKeys } from './keys.js';
import { createSale, openSale, endSale } from './lifecycle.js';
import { createProduct } from '../storefront/index.js';
import { ReserveBatcher } from './batcher.js';
import { reserve } from './reservations.js';
import { startSweeper } from './sweeper.js';
import { eventually } from '../test/sales.js';

let world: TestWorld;
let second: Context;
let batcher: ReserveBatcher;
beforeAll(async () => {
  world = await createTestWorld();
  batcher = new ReserveBatcher(world.ctx);
  second = createContext(world.config); // another "process" on the same Redis and Postgres
});
afterAll(async () => {
  await second?.close();
  await world?.cleanup();
});

async function openNow(ctx: Context, sku: string, stock: number, quantity: number, holdSeconds = 1) {
  const product = await createProduct(ctx, { sku, name: sku, priceCents: 100, stock });
  const now = Date.now();
  const sale = await createSale(ctx, {
    productId: product.id, quantity, priceCents: 50, perUserLimit: 5, holdSeconds, waitingRoom: false,
    startsAt: new Date(now), endsAt: new Date(now + 3_600_000), powDifficulty: 0,
  });
  return { product, sale, status: await openSale(ctx, sale.id) };
}

describe('sweeper', () => {
  it('two processes sweeping: one holds the lease, every expired hold comes back exactly once, and an ended sale leaves the active set', async () => {
    const { sale } = await openNow(world.ctx, 'SW-1', 20, 20);
    for (let u = 1; u <= 10; u++) await reserve(world.ctx, batcher, { saleId: sale.id, userId: String(u), quantity: 2 });
    const k = saleKeys(world.config.redisPrefix, sale.id);
    expect(await world.ctx.redis.get(k.stock)).toBe('0');
    const stops = [startSweeper(world.ctx), startSweeper(second)];
    try {
      const owners = new Set<string>();
      await eventually(async () => {
        const owner = await world.ctx.redis.get(`${world.config.redisPrefix}lease:sweeper`);
        if (owner) owners.add(owner);
        return (await world.ctx.redis.get(k.stock)) === '20';
      }, 'the holds to expire');
      expect(owners.size).toBe(1);
      expect(await world.ctx.redis.hget(k.stats, 'held')).toBe('0');
      const events = await world.ctx.redis.xrange(k.events, '-', '+');
      expect(events.filter(([, f]) => f[1] === 'expired')).toHaveLength(10);
      expect(await world.ctx.redis.sismember(activeSalesKey(world.config.redisPrefix), sale.id)).toBe(1);
      await endSale(world.ctx, sale.id);
      await eventually(async () => (await world.ctx.redis.sismember(activeSalesKey(world.config.redisPrefix), sale.id)) === 0, 'the sale to leave the active set');
    } finally {
      for (const stop of stops) await stop();
    }
  });

  it('a sale whose units were sold elsewhere before it opened is cancelled at open, and inventory is untouched', async () => {
    const product = await createProduct(world.ctx, { sku: 'SW-2', name: 'x', priceCents: 100, stock: 10 });
    const now = Date.now();
    const sale = await createSale(world.ctx, {
      productId: product.id, quantity: 8, priceCents: 50, perUserLimit: 1, holdSeconds: 60, waitingRoom: false,
      startsAt: new Date(now), endsAt: new Date(now + 60_000), powDifficulty: 0,
    });
    await world.ctx.db.query('UPDATE inventory SET quantity = 5 WHERE product_id = $1', [product.id]);
    expect(await openSale(world.ctx, sale.id)).toBe('cancelled');
    expect(await openSale(world.ctx, sale.id)).toBe('cancelled');
    const inv = await world.ctx.db.query('SELECT quantity FROM inventory WHERE product_id = $1', [product.id]);
    expect(inv.rows[0].quantity).toBe(5);
    await expect(reserve(world.ctx, batcher, { saleId: sale.id, userId: '1', quantity: 1 })).rejects.toMatchObject({ code: 'sale_not_open' });
  });

  it('opening the same sale from two processes at once allocates once', async () => {
    const product = await createProduct(world.ctx, { sku: 'SW-3', name: 'x', priceCents: 100, stock: 10 });
    const now = Date.now();
    const sale = await createSale(world.ctx, {
      productId: product.id, quantity: 4, priceCents: 50, perUserLimit: 1, holdSeconds: 60, waitingRoom: false,
      startsAt: new Date(now), endsAt: new Date(now + 60_000), powDifficulty: 0,
    });
    const got = await Promise.all([openSale(world.ctx, sale.id), openSale(second, sale.id), openSale(world.ctx, sale.id)]);
    expect(got).toEqual(['open', 'open', 'open']);
    const inv = await world.ctx.db.query('SELECT quantity FROM inventory WHERE product_id = $1', [product.id]);
    expect(inv.rows[0].quantity).toBe(6);
    expect(await world.ctx.redis.get(saleKeys(world.config.redisPrefix, sale.id).stock)).toBe('4');
  });
});
