import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { openSaleScript, reserveBatchScript, reserveKeys, saleKeys, type Sale } from '../reservation/index.js';
import { queueKeys } from './keys.js';
import { joinQueue, tickSale } from './queue.js';
import { queueLeave } from './scripts.js';
import { sleep } from '../test/waiting-room.js';

/** The queue scripts on real Redis, driven directly (no gateway, no ticker loop). */
let world: TestWorld;
let nextId = 1000;
beforeAll(async () => {
  world = await createTestWorld({ disconnectGraceSeconds: 60 });
});
afterAll(async () => {
  await world?.cleanup();
});

async function openSale(o: { stock: number; startsInMs?: number; batchSize?: number; intervalMs?: number; windowSeconds?: number; factor?: number }): Promise<Sale> {
  const id = String(nextId++);
  const now = Date.now();
  const sale: Sale = {
    id, productId: '1', name: 'Thing', quantity: o.stock, priceCents: 100,
    startsAt: new Date(now + (o.startsInMs ?? -1000)), endsAt: new Date(now + 3_600_000),
    perUserLimit: 1, holdSeconds: 60, waitingRoom: true,
    admission: { batchSize: o.batchSize ?? 10, intervalMs: o.intervalMs ?? 50, windowSeconds: o.windowSeconds ?? 60, overAdmissionFactor: o.factor ?? 1 },
    queueOpensAt: new Date(now - 600_000), powDifficulty: 0, accountsCreatedBefore: null, maxAdmissionsPerIp: null, status: 'open',
  };
  const k = saleKeys(world.config.redisPrefix, id);
  await openSaleScript(world.ctx.redis, k, o.stock, [
    'id', id, 'perUserLimit', 1, 'holdSeconds', 60, 'waitingRoom', 1, 'startsAt', sale.startsAt.getTime(), 'endsAt', sale.endsAt.getTime(),
  ]);
  return sale;
}

/** Steps the queue until an admission tick happened (one per interval slot). */
async function tick(sale: Sale) {
  for (;;) {
    const r = await tickSale(world.ctx, sale);
    if (r.ticked || r.status === 'CLOSED') return r;
    await sleep(10);
  }
}

describe('queue Lua scripts', () => {
  it('an admission window that ends unused frees its slot for the next user, and spends the place', async () => {
    const sale = await openSale({ stock: 1, batchSize: 1, windowSeconds: 0.3 });
    await joinQueue(world.ctx, sale, 'u1', 'c1', true);
    await joinQueue(world.ctx, sale, 'u2', 'c2', true);
    expect((await tick(sale)).admitted).toEqual([['u1', 1]]);
    expect((await tick(sale)).admitted).toEqual([]); // the one unit's admission is outstanding
    await sleep(350);
    expect((await tick(sale)).admitted).toEqual([['u2', 2]]);
    expect((await joinQueue(world.ctx, sale, 'u1', 'c1', false)).kind).toBe('none');
    expect(await joinQueue(world.ctx, sale, 'u1', 'c1', true)).toMatchObject({ kind: 'waiting', ticket: 3 });
  });

  it('admitted users who reserve together (one batch, one event listing them all) stop counting as outstanding', async () => {
    const sale = await openSale({ stock: 3, batchSize: 3, factor: 1 });
    for (const u of ['u1', 'u2', 'u3', 'u4']) await joinQueue(world.ctx, sale, u, '', true);
    expect((await tick(sale)).admitted.map(([u]) => u)).toEqual(['u1', 'u2', 'u3']);
    const k = saleKeys(world.config.redisPrefix, sale.id);
    const batch = ['u1', 'u2'].map((userId) => ({ userId, quantity: 1, idempotencyKey: '', jti: '', markerSeconds: 60 }));
    await reserveBatchScript(world.ctx.redis, reserveKeys(k), batch, Date.now());
    expect(await world.ctx.redis.xlen(k.events)).toBe(1);
    await tick(sale);
    expect(await world.ctx.redis.zrange(queueKeys(world.config.redisPrefix, sale.id).admitted, '0', '-1')).toEqual(['u3']);
  });

  it('several steppers at once make one admission tick per interval slot', async () => {
    const sale = await openSale({ stock: 100, batchSize: 1, intervalMs: 60_000 });
    for (let i = 0; i < 10; i++) await joinQueue(world.ctx, sale, `u${i}`, '', true);
    const results = await Promise.all(Array.from({ length: 10 }, () => tickSale(world.ctx, sale)));
    expect(results.filter((r) => r.ticked)).toHaveLength(1);
    expect(results.flatMap((r) => r.admitted)).toHaveLength(1);
  });

  it('sold out is reported with final=false while holds are outstanding and final=true once none is', async () => {
    const sale = await openSale({ stock: 0 });
    const k = saleKeys(world.config.redisPrefix, sale.id);
    await world.ctx.redis.hset(k.stats, 'held', 1);
    let r = await tickSale(world.ctx, sale);
    expect(r).toMatchObject({ soldOut: 1, soldOutChanged: true });
    expect(await joinQueue(world.ctx, sale, 'late', '', true)).toMatchObject({ kind: 'waiting', soldOut: 1, etaSeconds: null });
    await world.ctx.redis.hset(k.stats, 'held', 0);
    r = await tickSale(world.ctx, sale);
    expect(r).toMatchObject({ soldOut: 2, soldOutChanged: true });
    await world.ctx.redis.set(k.stock, 1); // a unit comes back (a failed payment)
    r = await tickSale(world.ctx, sale);
    expect(r).toMatchObject({ soldOut: 0, soldOutChanged: true });
  });

  it('10,000 pre-start joiners get a random permutation of tickets 1..10,000 at the start; joiners during the shuffle follow in arrival order', async () => {
    const sale = await openSale({ stock: 1, startsInMs: 1500, batchSize: 1 });
    const n = 10_000;
    for (let i = 0; i < n; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => joinQueue(world.ctx, sale, `p${i + j}`, '', true)));
    }
    while (Date.now() < sale.startsAt.getTime() + 20) await sleep(20);
    for (const u of ['late1', 'late2', 'late3']) expect((await joinQueue(world.ctx, sale, u, '', true)).kind).toBe('pre');
    let steps = 0;
    const k = queueKeys(world.config.redisPrefix, sale.id);
    while ((await world.ctx.redis.hget(k.state, 'phase')) !== 'live') {
      await tickSale(world.ctx, sale);
      steps++;
    }
    expect(steps).toBeGreaterThan(1); // chunked: Redis is never blocked by one big shuffle
    const tickets = (await world.ctx.redis.hmget(k.tickets, ...Array.from({ length: n }, (_, i) => `p${i}`))).map(Number);
    expect([...tickets].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const fixedPoints = tickets.filter((t, i) => t === i + 1).length;
    const meanShift = tickets.reduce((s, t, i) => s + Math.abs(t - (i + 1)), 0) / n;
    expect(fixedPoints).toBeLessThan(20); // about 1 expected for a random permutation
    expect(meanShift).toBeGreaterThan(n / 4); // n/3 expected; join order would give 0
    expect((await world.ctx.redis.hmget(k.tickets, 'late1', 'late2', 'late3')).map(Number)).toEqual([n + 1, n + 2, n + 3]);
  });

  it('a user gone longer than the grace period is skipped by admission and loses the place; one within it keeps it', async () => {
    const sale = await openSale({ stock: 10, batchSize: 2 });
    for (const u of ['a', 'b', 'c']) await joinQueue(world.ctx, sale, u, `conn-${u}`, true);
    const k = queueKeys(world.config.redisPrefix, sale.id);
    await world.ctx.redis.zadd(k.seen, Date.now() - 61_000, 'a'); // a left 61 s ago (grace is 60 s)
    await queueLeave(world.ctx.redis, k, 'b', 'conn-b'); // b just left
    const r = await tick(sale);
    expect(r.admitted.map(([u]) => u)).toEqual(['b', 'c']);
    expect(r.skipped).toBe(1);
    expect(r.serving).toBe(3);
    expect(await queueLeave(world.ctx.redis, k, 'c', 'old-conn')).toBe(false); // not the current socket
    expect(await joinQueue(world.ctx, sale, 'a', '', true)).toMatchObject({ kind: 'waiting', ticket: 4, position: 1 });
  });

  it('the ETA comes from the measured admission rate once ticks have run, and from the nominal pace before', async () => {
    const sale = await openSale({ stock: 1000, batchSize: 2, intervalMs: 50 });
    for (let i = 0; i < 40; i++) await joinQueue(world.ctx, sale, `r${i}`, '', true);
    const before = await joinQueue(world.ctx, sale, 'r0', '', false);
    expect(before.perSecond).toBeNull(); // nothing measured yet: the ETA uses batchSize / interval = 40/s
    expect(before.etaSeconds).toBe(Math.ceil(before.position! / 40));
    for (let i = 0; i < 6; i++) await tick(sale);
    const after = await joinQueue(world.ctx, sale, 'r39', '', false);
    expect(after.perSecond).toBeGreaterThan(0);
    expect(after.perSecond!).toBeLessThan(80); // about 2 places per 50 ms slot (tick times fall anywhere in their slot)
    expect(after.etaSeconds).toBe(Math.ceil(after.position! / after.perSecond!));
  });
});
