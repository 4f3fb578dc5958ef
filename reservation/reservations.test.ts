import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { saleKeys } from './keys.js';
import { sweepOnce } from './sweeper.js';
import { eventually, makeSale, makeUsers } from '../test/sales.js';

let t: TestEngine;
let users: Array<{ id: string; token: string }>;
beforeAll(async () => {
  t = await startTestEngine();
  users = await makeUsers(t.ctx, 20);
});
afterAll(async () => {
  await t?.cleanup();
});

const reserve = (saleId: string, token: string, quantity = 1, headers: Record<string, string> = {}) =>
  t.api('POST', `/api/sales/${saleId}/reservations`, { token, body: { quantity }, headers });

describe('reservations', () => {
  it('a reservation holds units until it expires: 201 with id, quantity and expiry; stock and held move together', async () => {
    const { saleId } = await makeSale(t, { quantity: 5 });
    const r = await reserve(saleId, users[0].token, 2);
    expect(r.status).toBe(201);
    expect(r.body.reservationId).toMatch(new RegExp(`^${saleId}-\\d+$`));
    expect(r.body.quantity).toBe(2);
    expect(new Date(r.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const view = await t.api('GET', `/api/sales/${saleId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id: saleId, status: 'open', remaining: 3, priceCents: 19_900, name: 'Phone' });
    const admin = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
    expect(admin.body).toMatchObject({ id: saleId, status: 'open', quantity: 5, stats: { remaining: 3, held: 2, sold: 0 } });
    const hold = await t.api('GET', `/api/reservations/${r.body.reservationId}`, { token: users[0].token });
    expect(hold.body).toMatchObject({ status: 'held', quantity: 2 });
    expect((await t.api('GET', `/api/reservations/${r.body.reservationId}`, { token: users[1].token })).status).toBe(404);
  });

  it('the same Idempotency-Key twice gives the same reservation and one decrement', async () => {
    const { saleId } = await makeSale(t, { quantity: 10 });
    const headers = { 'idempotency-key': 'order-abc-1' };
    const [a, b] = await Promise.all([reserve(saleId, users[1].token, 1, headers), reserve(saleId, users[1].token, 1, headers)]);
    const c = await reserve(saleId, users[1].token, 1, headers);
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(b.body).toEqual(a.body);
    expect(c.body).toEqual(a.body);
    expect(c.headers.get('idempotent-replayed')).toBe('true');
    const k = saleKeys(t.config.redisPrefix, saleId);
    expect(await t.ctx.redis.get(k.stock)).toBe('9');
    // Another user's identical key is theirs alone; a different quantity under a used key is refused.
    const other = await reserve(saleId, users[2].token, 1, headers);
    expect(other.body.reservationId).not.toBe(a.body.reservationId);
    const changed = await reserve(saleId, users[1].token, 2, headers);
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('idempotency_conflict');
    expect(await t.ctx.redis.get(k.stock)).toBe('8');
  });

  it('a released hold returns its unit, only its owner can release it, and releasing twice is harmless', async () => {
    const { saleId } = await makeSale(t, { quantity: 1, perUserLimit: 1 });
    const r = await reserve(saleId, users[3].token);
    expect(r.status).toBe(201);
    expect((await reserve(saleId, users[4].token)).body.error.code).toBe('sold_out');
    const foreign = await t.api('DELETE', `/api/reservations/${r.body.reservationId}`, { token: users[4].token });
    expect(foreign.status).toBe(404);
    const del = await t.api('DELETE', `/api/reservations/${r.body.reservationId}`, { token: users[3].token });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ reservationId: r.body.reservationId, status: 'released' });
    expect((await t.api('DELETE', `/api/reservations/${r.body.reservationId}`, { token: users[3].token })).status).toBe(200);
    const stats = (await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey })).body.stats;
    expect(stats).toMatchObject({ remaining: 1, held: 0 });
    // The releaser's limit is freed too, and the next buyer can take the unit.
    expect((await reserve(saleId, users[4].token)).status).toBe(201);
    expect((await t.api('DELETE', '/api/reservations/999-1', { token: users[3].token })).status).toBe(404);
    expect((await t.api('DELETE', '/api/reservations/nonsense', { token: users[3].token })).status).toBe(404);
  });

  it('an expired hold returns its unit and the next buyer can take it', async () => {
    const { saleId } = await makeSale(t, { quantity: 1, perUserLimit: 1, holdSeconds: 1 });
    const r = await reserve(saleId, users[5].token);
    expect(r.status).toBe(201);
    expect((await reserve(saleId, users[6].token)).body.error.code).toBe('sold_out');
    // The background sweeper (every 200 ms in tests) expires it once its time is up.
    await eventually(async () => (await t.api('GET', `/api/sales/${saleId}`)).body.remaining === 1, 'the hold to expire');
    const hold = await t.api('GET', `/api/reservations/${r.body.reservationId}`, { token: users[5].token });
    expect(hold.body.status).toBe('expired');
    expect((await reserve(saleId, users[6].token)).status).toBe(201);
    // An expired hold cannot be released any more (it is already back), and that is not an error.
    expect((await t.api('DELETE', `/api/reservations/${r.body.reservationId}`, { token: users[5].token })).status).toBe(200);
    expect(await sweepOnce(t.ctx)).toBe(0);
  });

  it('refuses with sale_not_open before the start and after a close, and limit_reached past the per-user limit', async () => {
    const later = await makeSale(t, { quantity: 5, startsInMs: 3_600_000, endsInMs: 7_200_000 });
    const early = await reserve(later.saleId, users[7].token);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('sale_not_open');
    expect((await t.api('GET', `/api/sales/${later.saleId}`)).body).toMatchObject({ status: 'scheduled', remaining: 5 });

    const { saleId } = await makeSale(t, { quantity: 10, perUserLimit: 2 });
    expect((await reserve(saleId, users[8].token, 2)).status).toBe(201);
    const over = await reserve(saleId, users[8].token, 1);
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('limit_reached');
    const closed = await t.api('POST', `/admin/sales/${saleId}/close`, { token: t.config.adminApiKey });
    expect(closed.body).toEqual({ id: saleId, status: 'closed' });
    expect((await reserve(saleId, users[9].token)).body.error.code).toBe('sale_not_open');
  });
});
