import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { startPsp, type PspProcess } from '../test/psp.js';
import { HttpPaymentProvider } from '../settlement/index.js';
import { CartService } from './cart/service.js';
import { Checkout } from './checkout.js';
import { createServer } from 'node:net';

/** A URL where nothing listens (a port just freed). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

let t: TestEngine;
let psp: PspProcess;
let n = 0;

async function product(priceCents: number, stock: number): Promise<number> {
  const { rows } = await t.ctx.db.query('INSERT INTO products (sku, name, category, price_cents) VALUES ($1, $2, $3, $4) RETURNING id', [
    `co-${++n}`,
    `Checkout product ${n}`,
    'Test',
    priceCents,
  ]);
  await t.ctx.db.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2)', [rows[0].id, stock]);
  return rows[0].id;
}

async function shopper(lines: Array<[number, number]>): Promise<{ userId: string; token: string }> {
  const res = await t.api('POST', '/api/auth/register', { body: { email: `buyer${++n}@example.com`, password: 'long enough pw' } });
  for (const [id, quantity] of lines) {
    const put = await t.api('PUT', `/api/cart/items/${id}`, { body: { quantity }, token: res.body.token });
    expect(put.status).toBe(200);
  }
  return res.body;
}

const stock = async (id: number) => (await t.ctx.db.query('SELECT quantity, version FROM inventory WHERE product_id = $1', [id])).rows[0];
const orders = async (userId: string) => (await t.ctx.db.query('SELECT * FROM orders WHERE user_id = $1', [userId])).rows;
const charges = async () => (await psp.stats()).charges.created as number;
const pay = (token: string, key: string, paymentMethod = 'pm_card_ok') =>
  t.api('POST', '/api/checkout', { body: { paymentMethod }, token, headers: { 'idempotency-key': key } });

beforeAll(async () => {
  psp = await startPsp();
  t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 2000 });
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

describe('regular checkout', () => {
  it('pm_card_ok: 201 paid order with items and payment, one charge, stock and outbox written, cart emptied', async () => {
    const a = await product(1999, 10);
    const b = await product(500, 3);
    const u = await shopper([[a, 2], [b, 3]]);
    const before = await charges();
    const res = await pay(u.token, 'order-1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'paid', totalCents: 2 * 1999 + 3 * 500 });
    const [order] = await orders(u.userId);
    expect(order).toMatchObject({ id: res.body.orderId, status: 'paid', total_cents: 5498, idempotency_key: 'order-1', reservation_id: null });
    const items = (await t.ctx.db.query('SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY product_id', [order.id])).rows;
    expect(items).toEqual([
      { product_id: a, quantity: 2, unit_price_cents: 1999 },
      { product_id: b, quantity: 3, unit_price_cents: 500 },
    ]);
    const payment = (await t.ctx.db.query('SELECT * FROM payments WHERE order_id = $1', [order.id])).rows;
    expect(payment).toHaveLength(1);
    expect(payment[0]).toMatchObject({ status: 'succeeded', amount_cents: 5498 });
    expect(await charges()).toBe(before + 1);
    expect(await stock(a)).toMatchObject({ quantity: 8, version: 1 });
    expect(await stock(b)).toMatchObject({ quantity: 0, version: 1 });
    const outbox = (await t.ctx.db.query(`SELECT key FROM outbox WHERE payload->>'reason' = 'checkout' AND key = ANY($1)`, [[String(a), String(b)]])).rows;
    expect(outbox).toHaveLength(2);
    expect((await t.api('GET', '/api/cart', { token: u.token })).body.items).toEqual([]);
  });

  it('a repeated Idempotency-Key gives one order and one charge, sequentially and 20 at once', async () => {
    const p = await product(700, 100);
    const u = await shopper([[p, 1]]);
    const before = await charges();
    const first = await pay(u.token, 'same-key');
    expect(first.status).toBe(201);
    await t.api('PUT', `/api/cart/items/${p}`, { body: { quantity: 5 }, token: u.token });
    const again = await pay(u.token, 'same-key');
    expect(again.status).toBe(201);
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const v = await shopper([[p, 2]]);
    const burst = await Promise.all(Array.from({ length: 20 }, () => pay(v.token, 'burst-key')));
    const ok = burst.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => r.body.orderId)).size).toBe(1);
    expect(burst.every((r) => r.status === 201 || r.body.error.code === 'idempotency_conflict')).toBe(true);
    expect(await orders(u.userId)).toHaveLength(1);
    expect(await orders(v.userId)).toHaveLength(1);
    expect(await charges()).toBe(before + 2);
    expect((await stock(p)).quantity).toBe(100 - 1 - 2);
  });

  it('pm_card_declined: 402, no order, stock given back; the same key replays the decline, a new key may pay', async () => {
    const p = await product(4200, 5);
    const u = await shopper([[p, 2]]);
    const res = await pay(u.token, 'decline-1', 'pm_card_declined');
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('payment_declined');
    expect(await orders(u.userId)).toHaveLength(0);
    expect(await stock(p)).toMatchObject({ quantity: 5, version: 2 });
    expect((await pay(u.token, 'decline-1', 'pm_card_ok')).status).toBe(402);
    expect((await t.api('GET', '/api/cart', { token: u.token })).body.items).toHaveLength(1);
    const paid = await pay(u.token, 'decline-2', 'pm_card_ok');
    expect(paid.status).toBe(201);
    expect((await stock(p)).quantity).toBe(3);
  });

  it('PSP unreachable mid-checkout: 503, the checkout stays reserved; the same key later finishes it with one charge', async () => {
    const p = await product(1000, 4);
    const u = await shopper([[p, 1]]);
    const down = new Checkout(t.ctx, new CartService(t.ctx), new HttpPaymentProvider({ url: await deadUrl(), timeoutMs: 500 }));
    await expect(down.checkout(u.userId, 'psp-down', 'pm_card_ok')).rejects.toMatchObject({ code: 'unavailable', status: 503 });
    expect((await stock(p)).quantity).toBe(3);
    expect((await t.ctx.db.query(`SELECT status FROM checkouts WHERE idempotency_key = 'psp-down'`)).rows[0].status).toBe('reserved');
    const before = await charges();
    const retry = await pay(u.token, 'psp-down');
    expect(retry.status).toBe(201);
    expect(await orders(u.userId)).toHaveLength(1);
    expect(await charges()).toBe(before + 1);
    expect((await stock(p)).quantity).toBe(3);
  });

  it('a checkout abandoned mid-saga is settled from the PSP record: no charge gives the stock back, a charge gets its order', async () => {
    const p = await product(1000, 4);
    const u = await shopper([[p, 2]]);
    const carts = new CartService(t.ctx);
    const down = new Checkout(t.ctx, carts, new HttpPaymentProvider({ url: await deadUrl(), timeoutMs: 500 }));
    await expect(down.checkout(u.userId, 'abandoned', 'pm_card_ok')).rejects.toMatchObject({ code: 'unavailable' });
    expect((await stock(p)).quantity).toBe(2);
    const payments = new HttpPaymentProvider({ url: psp.url });
    const live = new Checkout(t.ctx, carts, payments);
    expect(await live.recoverStale(0)).toBeGreaterThanOrEqual(1);
    expect((await stock(p)).quantity).toBe(4);
    expect((await t.ctx.db.query(`SELECT status FROM checkouts WHERE idempotency_key = 'abandoned'`)).rows[0].status).toBe('failed');

    // Charged, then the process died before the order was written: recovery writes the order, charges nothing.
    await expect(down.checkout(u.userId, 'charged-then-died', 'pm_card_ok')).rejects.toMatchObject({ code: 'unavailable' });
    const row = (await t.ctx.db.query(`SELECT id, total_cents FROM checkouts WHERE idempotency_key = 'charged-then-died'`)).rows[0];
    await payments.charge({ idempotencyKey: `checkout:${row.id}`, amountCents: row.total_cents, paymentMethod: 'pm_card_ok' });
    const before = await charges();
    expect(await live.recoverStale(0)).toBeGreaterThanOrEqual(1);
    expect(await orders(u.userId)).toHaveLength(1);
    expect(await charges()).toBe(before);
    expect((await stock(p)).quantity).toBe(2);
  });

  it('answers bad checkout input with 4xx: no auth, no key, bad method, empty cart, short stock', async () => {
    const p = await product(100, 1);
    const u = await shopper([]);
    expect((await t.api('POST', '/api/checkout', { body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': 'k' } })).status).toBe(401);
    expect((await t.api('POST', '/api/checkout', { body: { paymentMethod: 'pm_card_ok' }, token: u.token })).status).toBe(400);
    expect((await pay(u.token, 'x'.repeat(201))).status).toBe(400);
    for (const body of [{}, { paymentMethod: '' }, { paymentMethod: 5 }]) {
      const res = await t.api('POST', '/api/checkout', { body, token: u.token, headers: { 'idempotency-key': 'bad-body' } });
      expect(res.status).toBe(400);
    }
    const empty = await pay(u.token, 'empty');
    expect(empty.status).toBe(409);
    expect(empty.body.error.code).toBe('invalid_state');
    await t.api('PUT', `/api/cart/items/${p}`, { body: { quantity: 2 }, token: u.token });
    const short = await pay(u.token, 'short');
    expect(short.status).toBe(409);
    expect(short.body.error.code).toBe('out_of_stock');
    expect((await stock(p)).quantity).toBe(1);
  });

  it('200 concurrent shoppers, stock 100: exactly 100 orders, 100 out_of_stock, stock at 0, one charge per order', async () => {
    const p = await product(2500, 100);
    const buyers = await Promise.all(Array.from({ length: 200 }, () => shopper([[p, 1]])));
    const before = await charges();
    const results = await Promise.all(buyers.map((b, i) => pay(b.token, `hundred-${i}`)));
    const codes = results.map((r) => (r.status === 201 ? 'paid' : r.body.error.code));
    expect(codes.filter((c) => c === 'paid')).toHaveLength(100);
    expect(codes.filter((c) => c === 'out_of_stock')).toHaveLength(100);
    expect(await stock(p)).toMatchObject({ quantity: 0, version: 100 });
    const sold = (await t.ctx.db.query('SELECT coalesce(sum(quantity), 0)::int AS n FROM order_items WHERE product_id = $1', [p])).rows[0].n;
    expect(sold).toBe(100);
    expect(await charges()).toBe(before + 100);
  });

  it('last unit: 50 concurrent checkouts of a product with stock 1 give exactly 1 order, 49 get 409 out_of_stock, one charge', async () => {
    const p = await product(99900, 1);
    const buyers = await Promise.all(Array.from({ length: 50 }, () => shopper([[p, 1]])));
    const before = await charges();
    const results = await Promise.all(buyers.map((b, i) => pay(b.token, `last-unit-${i}`)));
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status === 409);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    expect(lost.every((r) => r.body.error.code === 'out_of_stock')).toBe(true);
    const paid = (await t.ctx.db.query(`SELECT count(*)::int AS n FROM order_items WHERE product_id = $1`, [p])).rows[0].n;
    expect(paid).toBe(1);
    expect(await stock(p)).toMatchObject({ quantity: 0 });
    expect(await charges()).toBe(before + 1);
  });
});
