import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeSale, makeUsers } from './sales.js';
import { saleKeys } from '../reservation/index.js';
import { startTestEngine, type TestEngine } from './engine.js';
import { holdStatus } from './holds.js';
import { startPsp, type PspProcess } from './psp.js';

let t: TestEngine;
let psp: PspProcess;
type User = { id: string; token: string };

beforeAll(async () => {
  psp = await startPsp();
  t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 300, settleAttempts: 3, settleBackoffMs: 50 });
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

async function hold(user: User, saleId: string, quantity = 1): Promise<string> {
  const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: user.token, body: { quantity } });
  expect(r.status).toBe(201);
  return r.body.reservationId;
}

function pay(user: User, rid: string, paymentMethod: string, key = `k-${rid}`) {
  return t.api('POST', `/api/reservations/${rid}/checkout`, { token: user.token, body: { paymentMethod }, headers: { 'idempotency-key': key } });
}

function settled(user: User, orderId: string) {
  return eventually(async () => {
    const r = await t.api('GET', `/api/orders/${orderId}`, { token: user.token });
    return r.status === 200 && r.body.status !== 'pending' ? r.body : undefined;
  }, `order ${orderId} to settle`);
}

async function stats(saleId: string) {
  const r = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
  return r.body.stats as { remaining: number; held: number; sold: number };
}

async function chargeOf(rid: string) {
  return (await psp.stats(rid)).key as { attempts: number; chargeId: string | null; status: string | null };
}

describe('checkout and settlement', () => {
  it('pm_card_ok: a paid order with one charge, the hold sold, and the shopper told on their channel', async () => {
    const { saleId, productId } = await makeSale(t, { quantity: 10, priceCents: 1_500 });
    const [user] = await makeUsers(t.ctx, 1);
    const sub = new Redis(t.config.redisUrl!);
    const messages: unknown[] = [];
    // The waiting room's per-user channel: its socket server forwards these to the shopper's socket.
    sub.on('message', (_c, m) => {
      const { userId, message } = JSON.parse(m);
      if (userId === String(user.id)) messages.push(message);
    });
    await sub.subscribe(`${t.config.redisPrefix}wr:user`);
    const rid = await hold(user, saleId, 2);

    const res = await pay(user, rid, 'pm_card_ok');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ orderId: expect.any(String), status: 'pending' });
    const order = await settled(user, res.body.orderId);
    expect(order).toEqual({
      id: res.body.orderId,
      status: 'paid',
      totalCents: 3_000,
      items: [{ productId: String(productId), quantity: 2, unitPriceCents: 1_500 }],
      createdAt: expect.stringMatching(/Z$/),
    });
    expect(await chargeOf(rid)).toMatchObject({ status: 'succeeded' });
    const payments = await t.ctx.db.query('SELECT status, amount_cents, order_id FROM payments WHERE idempotency_key = $1', [rid]);
    expect(payments.rows).toEqual([{ status: 'succeeded', amount_cents: 3_000, order_id: res.body.orderId }]);
    expect(await stats(saleId)).toMatchObject({ remaining: 8, held: 0, sold: 2 });
    expect(await holdStatus(t.ctx.redis, saleKeys(t.config.redisPrefix, saleId), rid)).toBe('sold');
    await eventually(async () => messages.length > 0, 'the order message');
    expect(messages).toEqual([{ type: 'order', orderId: res.body.orderId, status: 'paid' }]);
    await sub.quit();
  });

  it('pm_card_declined: a failed order, and the unit returns to stock for the next buyer', async () => {
    const { saleId } = await makeSale(t, { quantity: 1 });
    const [a, b] = await makeUsers(t.ctx, 2);
    const rid = await hold(a, saleId);
    expect((await t.api('POST', `/api/sales/${saleId}/reservations`, { token: b.token, body: { quantity: 1 } })).body.error.code).toBe('sold_out');
    const res = await pay(a, rid, 'pm_card_declined');
    expect(res.status).toBe(202);
    expect((await settled(a, res.body.orderId)).status).toBe('failed');
    expect(await stats(saleId)).toMatchObject({ remaining: 1, held: 0, sold: 0 });
    expect((await chargeOf(rid)).status).toBe('declined');
    await hold(b, saleId); // the unit is back
  });

  it('pm_card_timeout and pm_card_flaky each end paid with exactly one charge', async () => {
    const { saleId } = await makeSale(t, { quantity: 10 });
    const users = await makeUsers(t.ctx, 3);
    const methods = ['pm_card_timeout', 'pm_card_flaky_503', 'pm_card_flaky_drop'];
    const rids = await Promise.all(users.map((u) => hold(u, saleId)));
    const orders = await Promise.all(rids.map((rid, i) => pay(users[i], rid, methods[i])));
    for (const [i, o] of orders.entries()) expect((await settled(users[i], o.body.orderId)).status).toBe('paid');
    for (const rid of rids) {
      const c = await chargeOf(rid);
      expect(c.status).toBe('succeeded');
      expect(c.attempts).toBeGreaterThan(1); // retried under the same key
    }
    const s = await psp.stats();
    const { rows } = await t.ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE reservation_id = ANY($1)', [rids]);
    expect(rows[0].n).toBe(3);
    expect(s.attempts.maxPerKey).toBeGreaterThan(1);
    expect(await stats(saleId)).toMatchObject({ sold: 3, held: 0 });
  });

  it('the same Idempotency-Key twice gives one order; another key for the same hold gets 409', async () => {
    const { saleId } = await makeSale(t, { quantity: 10 });
    const [user] = await makeUsers(t.ctx, 1);
    const rid = await hold(user, saleId);
    const replies = await Promise.all(Array.from({ length: 20 }, () => pay(user, rid, 'pm_card_ok', 'same-key')));
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(replies.map((r) => r.body.orderId)).size).toBe(1);
    const other = await pay(user, rid, 'pm_card_ok', 'another-key');
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    await settled(user, replies[0].body.orderId);
    const again = await pay(user, rid, 'pm_card_ok', 'same-key');
    expect(again.body).toEqual({ orderId: replies[0].body.orderId, status: 'paid' });
    const { rows } = await t.ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE reservation_id = $1', [rid]);
    expect(rows[0].n).toBe(1);
    expect((await chargeOf(rid)).attempts).toBe(1);
  });

  it('a checkout on an expired hold gets 409 hold_expired, and on a released one too', async () => {
    const { saleId } = await makeSale(t, { quantity: 10, holdSeconds: 1 });
    const [user] = await makeUsers(t.ctx, 1);
    const rid = await hold(user, saleId);
    await new Promise((r) => setTimeout(r, 1_100));
    const res = await pay(user, rid, 'pm_card_ok');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('hold_expired');
    const rid2 = await hold(user, saleId);
    expect((await t.api('DELETE', `/api/reservations/${rid2}`, { token: user.token })).status).toBeLessThan(300);
    expect((await pay(user, rid2, 'pm_card_ok')).body.error.code).toBe('hold_expired');
  });

  it("another user's reservation, or an unknown one, gets 404", async () => {
    const { saleId } = await makeSale(t, { quantity: 10 });
    const [owner, thief] = await makeUsers(t.ctx, 2);
    const rid = await hold(owner, saleId);
    const res = await pay(thief, rid, 'pm_card_ok');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await pay(owner, '999999-1', 'pm_card_ok')).status).toBe(404);
    expect((await pay(owner, 'nonsense', 'pm_card_ok')).status).toBe(404);
    // The owner can still pay.
    expect((await pay(owner, rid, 'pm_card_ok')).status).toBe(202);
  });

  it('bad input gets a clear 4xx: no token, no Idempotency-Key, no or bad paymentMethod, bad JSON', async () => {
    const { saleId } = await makeSale(t, { quantity: 10 });
    const [user] = await makeUsers(t.ctx, 1);
    const rid = await hold(user, saleId);
    const path = `/api/reservations/${rid}/checkout`;
    const noToken = await t.api('POST', path, { body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': 'k' } });
    expect(noToken.status).toBe(401);
    const noKey = await t.api('POST', path, { token: user.token, body: { paymentMethod: 'pm_card_ok' } });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.field).toBe('Idempotency-Key');
    const noMethod = await t.api('POST', path, { token: user.token, body: {}, headers: { 'idempotency-key': 'k' } });
    expect(noMethod.body.error).toMatchObject({ code: 'invalid_request', field: 'paymentMethod' });
    const badJson = await t.api('POST', path, { token: user.token, body: '{"paymentMethod":', headers: { 'idempotency-key': 'k' } });
    expect(badJson.status).toBe(400);
    const wrongType = await t.api('POST', path, { token: user.token, body: { paymentMethod: 42 }, headers: { 'idempotency-key': 'k' } });
    expect(wrongType.status).toBe(400);
    // An unknown payment method is refused by the PSP: the order fails and the unit goes back.
    const unknown = await pay(user, rid, 'pm_card_nonsense');
    expect(unknown.status).toBe(202);
    expect((await settled(user, unknown.body.orderId)).status).toBe('failed');
    expect((await stats(saleId)).remaining).toBe(10);
    expect((await t.api('GET', '/api/orders/not-a-uuid', { token: user.token })).status).toBe(404);
    expect((await t.api('GET', '/api/orders?limit=0', { token: user.token })).status).toBe(400);
    expect((await t.api('GET', '/api/orders?cursor=%%%', { token: user.token })).status).toBe(400);
    expect((await t.api('GET', '/api/orders', {})).status).toBe(401);
  });
});

describe('order history and status', () => {
  it("GET /api/orders: the caller's orders newest first with cursor pagination, regular storefront orders included, nobody else's", async () => {
    const { saleId, productId } = await makeSale(t, { quantity: 10, perUserLimit: 10 });
    const [user, other] = await makeUsers(t.ctx, 2);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const rid = await hold(user, saleId);
      const r = await pay(user, rid, 'pm_card_ok');
      await settled(user, r.body.orderId);
      ids.push(r.body.orderId);
    }
    // A regular (non-flash) order, as the storefront writes it: same table, no reservation.
    const regular = await t.ctx.db.query(
      `INSERT INTO orders (user_id, total_cents, status, created_at) VALUES ($1, 2500, 'paid', now() + interval '1 second') RETURNING id`,
      [user.id],
    );
    await t.ctx.db.query('INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES ($1, $2, 1, 2500)', [regular.rows[0].id, productId]);
    ids.push(regular.rows[0].id);
    const otherRid = await hold(other, saleId);
    const otherOrder = (await pay(other, otherRid, 'pm_card_ok')).body.orderId;
    await settled(other, otherOrder);

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await t.api('GET', `/api/orders${q}`, { token: user.token });
      expect(page.status).toBe(200);
      expect(page.body.orders.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.orders);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen.map((o) => o.id)).toEqual([...ids].reverse());
    expect(seen[0]).toEqual({ id: regular.rows[0].id, status: 'paid', totalCents: 2500, items: [{ productId: String(productId), quantity: 1, unitPriceCents: 2500 }], createdAt: expect.any(String) });
    const times = seen.map((o) => Date.parse(o.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen.some((o) => o.id === otherOrder)).toBe(false);
    expect((await t.api('GET', `/api/orders/${otherOrder}`, { token: user.token })).status).toBe(404);
    expect((await t.api('GET', `/api/orders/${ids[0]}`, { token: other.token })).status).toBe(404);
  });

  it('order status follows its state machine: only a paid order ships, once', async () => {
    const { saleId } = await makeSale(t, { quantity: 10 });
    const [user] = await makeUsers(t.ctx, 1);
    const paid = (await pay(user, await hold(user, saleId), 'pm_card_ok')).body.orderId;
    const failed = (await pay(user, await hold(user, saleId), 'pm_card_declined')).body.orderId;
    await settled(user, paid);
    await settled(user, failed);
    const admin = t.config.adminApiKey;
    const shipped = await t.api('POST', `/admin/orders/${paid}/ship`, { token: admin });
    expect(shipped.status).toBe(200);
    expect(shipped.body.status).toBe('shipped');
    expect((await t.api('GET', `/api/orders/${paid}`, { token: user.token })).body.status).toBe('shipped');
    const again = await t.api('POST', `/admin/orders/${paid}/ship`, { token: admin });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
    expect((await t.api('POST', `/admin/orders/${failed}/ship`, { token: admin })).body.error.code).toBe('invalid_state');
    expect((await t.api('POST', `/admin/orders/${randomUUID()}/ship`, { token: admin })).status).toBe(404);
    expect((await t.api('POST', `/admin/orders/${paid}/ship`, { token: user.token })).status).toBe(401);
  });

  it('a sale that closes is reconciled at once: the result shows in GET /admin/sales/:id', async () => {
    const { saleId } = await makeSale(t, { quantity: 5 });
    const [user] = await makeUsers(t.ctx, 1);
    await settled(user, (await pay(user, await hold(user, saleId), 'pm_card_ok')).body.orderId);
    expect((await t.api('POST', `/admin/sales/${saleId}/close`, { token: t.config.adminApiKey })).status).toBeLessThan(300);
    const view = await eventually(async () => {
      const v = (await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey })).body;
      return v.stats.reconciliation ? v : undefined;
    }, 'the reconciliation of the closed sale');
    expect(view.stats.reconciliation).toMatchObject({ saleId, ok: true, redis: { sold: 1 }, postgres: { paidUnits: 1 } });
  });
});

