import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { setHoldStatus } from '../test/holds.js';
import { sweepOnce } from './sweeper.js';
import { eventually, makeSale, makeUsers } from '../test/sales.js';

let t: TestEngine;
let admin: string;
beforeAll(async () => {
  t = await startTestEngine();
  admin = t.config.adminApiKey;
});
afterAll(async () => {
  await t?.cleanup();
});

const inventory = async (productId: string) => (await t.api('GET', `/admin/products/${productId}`, { token: admin })).body.stock;

describe('merchant API', () => {
  it('creates a product with its inventory row and an outbox row in one go, and reads it back', async () => {
    const created = await t.api('POST', '/admin/products', {
      token: admin,
      body: { sku: 'TV-55', name: 'TV 55"', description: 'big', category: 'tv', priceCents: 99_900, stock: 40 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ sku: 'TV-55', name: 'TV 55"', priceCents: 99_900, stock: 40, category: 'tv' });
    expect(typeof created.body.id).toBe('string');
    const got = await t.api('GET', `/admin/products/${created.body.id}`, { token: admin });
    expect(got.body).toEqual(created.body);
    const outbox = await t.ctx.db.query(`SELECT count(*)::int AS n FROM outbox WHERE topic = 'product' AND key = $1`, [created.body.id]);
    expect(outbox.rows[0].n).toBe(1);
    const dup = await t.api('POST', '/admin/products', { token: admin, body: { sku: 'TV-55', name: 'again', priceCents: 1, stock: 1 } });
    expect(dup.status).toBe(409);
    expect((await t.api('GET', '/admin/products/424242', { token: admin })).status).toBe(404);
  });

  it('refuses a sale larger than the free inventory (counting other scheduled sales) or with times out of order', async () => {
    const p = await t.api('POST', '/admin/products', { token: admin, body: { sku: 'CAM-1', name: 'Camera', priceCents: 5_000, stock: 10 } });
    const now = Date.now();
    const body = (o: Record<string, unknown>) => ({
      productId: p.body.id, quantity: 6, priceCents: 4_000, perUserLimit: 1, holdSeconds: 60, waitingRoom: false,
      startsAt: new Date(now + 3_600_000).toISOString(), endsAt: new Date(now + 7_200_000).toISOString(), ...o,
    });
    const first = await t.api('POST', '/admin/sales', { token: admin, body: body({}) });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'scheduled', quantity: 6 });
    const tooMany = await t.api('POST', '/admin/sales', { token: admin, body: body({ quantity: 5 }) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ code: 'invalid_request', field: 'quantity' });
    expect((await t.api('POST', '/admin/sales', { token: admin, body: body({ quantity: 4 }) })).status).toBe(201);
    const backwards = await t.api('POST', '/admin/sales', { token: admin, body: body({ quantity: 1, endsAt: new Date(now + 60_000).toISOString() }) });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.field).toBe('endsAt');
    const queueLate = await t.api('POST', '/admin/sales', {
      token: admin, body: body({ quantity: 1, queueOpensAt: new Date(now + 5_000_000).toISOString() }),
    });
    expect(queueLate.body.error.field).toBe('queueOpensAt');
    const noProduct = await t.api('POST', '/admin/sales', { token: admin, body: body({ productId: '999999' }) });
    expect(noProduct.status).toBe(404);
    // Cancelling a scheduled sale frees its units for another one.
    expect((await t.api('POST', `/admin/sales/${first.body.id}/close`, { token: admin })).body.status).toBe('cancelled');
    expect((await t.api('POST', '/admin/sales', { token: admin, body: body({ quantity: 6 }) })).status).toBe(201);
  });

  it('keeps the waiting-room settings with their defaults', async () => {
    const p = await t.api('POST', '/admin/products', { token: admin, body: { sku: 'WR-1', name: 'Console', priceCents: 5_000, stock: 10 } });
    const now = Date.now();
    const startsAt = new Date(now + 3_600_000);
    const s = await t.api('POST', '/admin/sales', {
      token: admin,
      body: {
        productId: Number(p.body.id), quantity: 10, priceCents: 4_000, perUserLimit: 1, holdSeconds: 60, waitingRoom: true,
        startsAt: startsAt.toISOString(), endsAt: new Date(now + 7_200_000).toISOString(),
        admission: { batchSize: 50, intervalMs: 500 }, powDifficulty: 8,
      },
    });
    expect(s.status).toBe(201);
    const got = await t.api('GET', `/admin/sales/${s.body.id}`, { token: admin });
    expect(got.body).toMatchObject({
      waitingRoom: true,
      powDifficulty: 8,
      admission: { batchSize: 50, intervalMs: 500, windowSeconds: 120, overAdmissionFactor: t.config.overAdmissionFactor },
      queueOpensAt: new Date(startsAt.getTime() - 600_000).toISOString(),
      stats: { remaining: 10, held: 0, sold: 0 },
    });
  });

  it('opening allocates the quantity from inventory; closing returns unsold units exactly once, after the last hold ends', async () => {
    const users = await makeUsers(t.ctx, 3);
    const { productId, saleId } = await makeSale(t, { stock: 50, quantity: 20, perUserLimit: 5 });
    expect(await inventory(productId)).toBe(30);
    const r1 = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: users[0].token, body: { quantity: 5 } });
    const r2 = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: users[1].token, body: { quantity: 3 } });
    expect([r1.status, r2.status]).toEqual([201, 201]);
    // Settlement marks a hold sold; here we do what its script does, so 5 units count as sold.
    const k = (await import('./keys.js')).saleKeys(t.config.redisPrefix, saleId);
    await setHoldStatus(t.ctx.redis, k, r1.body.reservationId, 'sold');
    await t.ctx.redis.multi().zrem(k.holds, r1.body.reservationId).hincrby(k.stats, 'held', -5).hincrby(k.stats, 'sold', 5).exec();

    const closed = await t.api('POST', `/admin/sales/${saleId}/close`, { token: admin });
    expect(closed.body.status).toBe('closed');
    // Three units are still held: nothing goes back yet, whatever runs.
    await sweepOnce(t.ctx);
    expect(await inventory(productId)).toBe(30);
    expect((await t.api('DELETE', `/api/reservations/${r2.body.reservationId}`, { token: users[1].token })).status).toBe(200);
    await eventually(async () => (await inventory(productId)) === 45, 'unsold units to return');
    await sweepOnce(t.ctx);
    expect((await t.api('POST', `/admin/sales/${saleId}/close`, { token: admin })).body.status).toBe('closed');
    expect(await inventory(productId)).toBe(45);
    const row = await t.ctx.db.query('SELECT units_returned, status FROM sales WHERE id = $1', [saleId]);
    expect(row.rows[0]).toEqual({ units_returned: 15, status: 'closed' });
    const detail = await t.api('GET', `/admin/sales/${saleId}`, { token: admin });
    expect(detail.body.stats).toMatchObject({ remaining: 15, held: 0, sold: 5 });
  });

  it('shows the reconciliation settlement wrote for the sale', async () => {
    const { saleId } = await makeSale(t, { quantity: 3 });
    const { saleKeys } = await import('./keys.js');
    await t.ctx.redis.set(saleKeys(t.config.redisPrefix, saleId).recon, JSON.stringify({ ok: true, paidOrders: 0, sold: 0 }));
    const detail = await t.api('GET', `/admin/sales/${saleId}`, { token: admin });
    expect(detail.body.stats.reconciliation).toEqual({ ok: true, paidOrders: 0, sold: 0 });
  });

  it('answers 401 without the admin key or with a wrong one, on every admin route', async () => {
    for (const [method, path] of [['POST', '/admin/products'], ['GET', '/admin/products/1'], ['POST', '/admin/sales'], ['GET', '/admin/sales/1'], ['POST', '/admin/sales/1/close']]) {
      const none = await t.api(method, path, { body: method === 'POST' ? {} : undefined });
      expect(none.status).toBe(401);
      const wrong = await t.api(method, path, { token: 'not-the-key', body: method === 'POST' ? {} : undefined });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('unauthorized');
    }
    const user = (await makeUsers(t.ctx, 1))[0];
    expect((await t.api('GET', '/admin/sales/1', { token: user.token })).status).toBe(401);
  });
});
