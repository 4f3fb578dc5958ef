import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeSale, makeUsers } from '../sales.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { startPsp, type PspProcess } from '../psp.js';

let t: TestEngine;
let psp: PspProcess;
let n = 0;
beforeAll(async () => {
  psp = await startPsp();
  t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 2000 });
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

const admin = () => t.config.adminApiKey;
async function product(priceCents: number, stock: number): Promise<string> {
  const r = await t.api('POST', '/admin/products', { token: admin(), body: { sku: `m-${++n}`, name: `Money ${n}`, priceCents, stock } });
  expect(r.status).toBe(201);
  return r.body.id;
}
const pay = (token: string, key: string) => t.api('POST', '/api/checkout', { body: { paymentMethod: 'pm_card_ok' }, token, headers: { 'idempotency-key': key } });
const ordersOf = async (userId: string) => (await t.ctx.db.query('SELECT id, total_cents FROM orders WHERE user_id = $1', [userId])).rows;
const chargesOf = async (userId: string) =>
  (await t.ctx.db.query(`SELECT count(*)::int AS n FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.user_id = $1 AND p.status = 'succeeded'`, [userId])).rows[0].n;

describe('a cart checks out once', () => {
  it('5 concurrent cart checkouts, each with its own Idempotency-Key: exactly one order and one charge; the others 409 checkout_in_progress or the same order', async () => {
    const id = await product(2_500, 100);
    const [u] = await makeUsers(t.ctx, 1);
    expect((await t.api('PUT', `/api/cart/items/${id}`, { token: u.token, body: { quantity: 1 } })).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => pay(u.token, `tab-${i}`)));
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.orderId)).size).toBe(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('checkout_in_progress');
    }
    expect(await ordersOf(u.id)).toHaveLength(1);
    expect(await chargesOf(u.id)).toBe(1);
    // Afterwards, another tab with yet another key gets the same order, not a second one.
    const late = await pay(u.token, 'tab-late');
    expect(late.status).toBe(201);
    expect(late.body.orderId).toBe(created[0].body.orderId);
    expect(await ordersOf(u.id)).toHaveLength(1);
    // A changed cart checks out again.
    expect((await t.api('PUT', `/api/cart/items/${id}`, { token: u.token, body: { quantity: 2 } })).status).toBe(200);
    const again = await pay(u.token, 'next-purchase');
    expect(again.status).toBe(201);
    expect(again.body.orderId).not.toBe(created[0].body.orderId);
    expect(await ordersOf(u.id)).toHaveLength(2);
  });
});

describe('money above 2^31 cents', () => {
  const BIG_PRICE = 100_000_000; // $1,000,000.00, the largest price the API takes
  const UNITS = 30; // 3,000,000,000 cents > 2^31 - 1

  it('a cart total above 2^31 checks out end to end: order, items, payment and the PSP charge carry the exact total', async () => {
    const id = await product(BIG_PRICE, 50);
    const [u] = await makeUsers(t.ctx, 1);
    const put = await t.api('PUT', `/api/cart/items/${id}`, { token: u.token, body: { quantity: UNITS } });
    expect(put.status).toBe(200);
    expect(put.body.totalCents).toBe(BIG_PRICE * UNITS);
    const res = await pay(u.token, 'big-cart');
    expect(res.status).toBe(201);
    expect(res.body.totalCents).toBe(3_000_000_000);
    const order = await t.api('GET', `/api/orders/${res.body.orderId}`, { token: u.token });
    expect(order.status).toBe(200);
    expect(order.body.totalCents).toBe(3_000_000_000);
    const pays = await t.ctx.db.query('SELECT amount_cents FROM payments WHERE order_id = $1', [res.body.orderId]);
    expect(pays.rows).toEqual([{ amount_cents: 3_000_000_000 }]);
    const list = await t.api('GET', '/api/orders', { token: u.token });
    expect(list.body.orders[0].totalCents).toBe(3_000_000_000);
  });

  it('a flash order above 2^31 settles and can be read back (no 202 then 404)', async () => {
    const { saleId } = await makeSale(t, { quantity: UNITS, perUserLimit: UNITS, priceCents: BIG_PRICE });
    const [u] = await makeUsers(t.ctx, 1);
    const hold = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: UNITS } });
    expect(hold.status).toBe(201);
    const co = await t.api('POST', `/api/reservations/${hold.body.reservationId}/checkout`, { token: u.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': 'big-flash' } });
    expect(co.status).toBe(202);
    const order = await eventually(async () => {
      const r = await t.api('GET', `/api/orders/${co.body.orderId}`, { token: u.token });
      return r.status === 200 && r.body.status === 'paid' ? r.body : null;
    }, 'the big flash order to be paid');
    expect(order.totalCents).toBe(3_000_000_000);
  });

  it('amounts beyond the limits are a clear 400 at the point of input', async () => {
    const tooBig = await t.api('POST', '/admin/products', { token: admin(), body: { sku: 'm-huge', name: 'Huge', priceCents: 2 ** 53, stock: 1 } });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.field).toBe('priceCents');
    const fractional = await t.api('POST', '/admin/products', { token: admin(), body: { sku: 'm-frac', name: 'Frac', priceCents: 10.5, stock: 1 } });
    expect(fractional.status).toBe(400);
  });
});
