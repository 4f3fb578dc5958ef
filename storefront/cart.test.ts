import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { CartService } from './cart/service.js';
import { cartKeys } from './cart/keys.js';

let t: TestEngine;
let n = 0;

async function product(name: string, priceCents: number, stock: number): Promise<number> {
  const { rows } = await t.ctx.db.query('INSERT INTO products (sku, name, category, price_cents) VALUES ($1, $2, $3, $4) RETURNING id', [
    `cart-test-${++n}`,
    name,
    'Test',
    priceCents,
  ]);
  await t.ctx.db.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2)', [rows[0].id, stock]);
  return rows[0].id;
}

async function register(headers: Record<string, string> = {}): Promise<{ userId: string; token: string; email: string }> {
  const email = `shopper${++n}@example.com`;
  const res = await t.api('POST', '/api/auth/register', { body: { email, password: 'long enough pw' }, headers });
  expect(res.status).toBe(201);
  return { ...res.body, email };
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, tries = 100): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

const qty = (body: any) => Object.fromEntries(body.items.map((l: any) => [l.productId, l.quantity]));

beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('cart', () => {
  it('anonymous cart: the first call issues a token; on login it merges (quantities add, capped at 99 and by stock) and is gone', async () => {
    const a = await product('Alpha kettle', 2500, 500);
    const b = await product('Bravo mug', 900, 3);
    const c = await product('Charlie spoon', 300, 50);
    const first = await t.api('GET', '/api/cart');
    expect(first.status).toBe(200);
    const token = first.headers.get('x-cart-token')!;
    expect(token).toBeTruthy();
    expect(first.body.cartToken).toBe(token);
    expect(first.body.items).toEqual([]);
    const h = { 'x-cart-token': token };
    expect((await t.api('PUT', `/api/cart/items/${a}`, { body: { quantity: 60 }, headers: h })).status).toBe(200);
    expect((await t.api('PUT', `/api/cart/items/${b}`, { body: { quantity: 2 }, headers: h })).status).toBe(200);
    const anon = await t.api('PUT', `/api/cart/items/${c}`, { body: { quantity: 5 }, headers: h });
    expect(qty(anon.body)).toEqual({ [a]: 60, [b]: 2, [c]: 5 });
    expect(anon.body.totalCents).toBe(60 * 2500 + 2 * 900 + 5 * 300);

    const user = await register();
    await t.api('PUT', `/api/cart/items/${a}`, { body: { quantity: 50 }, token: user.token });
    await t.api('PUT', `/api/cart/items/${b}`, { body: { quantity: 2 }, token: user.token });
    const login = await t.api('POST', '/api/auth/login', { body: { email: user.email, password: 'long enough pw' }, headers: h });
    expect(login.status).toBe(200);
    const merged = await t.api('GET', '/api/cart', { token: login.body.token });
    expect(qty(merged.body)).toEqual({ [a]: 99, [b]: 3, [c]: 5 });
    expect(merged.headers.get('x-cart-token')).toBeNull();

    // The merged cart's token is void (docs/security.md): using it is a 400 naming the header.
    const after = await t.api('GET', '/api/cart', { headers: h });
    expect(after.status).toBe(400);
    expect(after.body.error.field).toBe('x-cart-token');
    await t.api('POST', '/api/auth/login', { body: { email: user.email, password: 'long enough pw' }, headers: h });
    expect(qty((await t.api('GET', '/api/cart', { token: user.token })).body)).toEqual({ [a]: 99, [b]: 3, [c]: 5 });
  });

  it('registering with a cart token takes the anonymous cart along; a stale token never blocks signing in', async () => {
    const p = await product('Delta lamp', 4000, 10);
    const first = await t.api('PUT', `/api/cart/items/${p}`, { body: { quantity: 2 } });
    const token = first.body.cartToken;
    expect(first.headers.get('x-cart-token')).toBe(token);
    const user = await register({ 'x-cart-token': token });
    expect(qty((await t.api('GET', '/api/cart', { token: user.token })).body)).toEqual({ [p]: 2 });
    const other = await register({ 'x-cart-token': 'not-a-token' });
    expect((await t.api('GET', '/api/cart', { token: other.token })).body.items).toEqual([]);
  });

  it('shows current prices and availability, and drops a line when asked', async () => {
    const p = await product('Echo chair', 12000, 2);
    const user = await register();
    const put = await t.api('PUT', `/api/cart/items/${p}`, { body: { quantity: 3 }, token: user.token });
    expect(put.body.items[0]).toMatchObject({ productId: String(p), name: 'Echo chair', quantity: 3, unitPriceCents: 12000, lineTotalCents: 36000, inStock: true, available: false });
    await t.ctx.db.query('UPDATE products SET price_cents = 9900 WHERE id = $1', [p]);
    await t.ctx.db.query('UPDATE inventory SET quantity = 5 WHERE product_id = $1', [p]);
    const now = await eventually(() => t.api('GET', '/api/cart', { token: user.token }), (r) => r.body.items[0].unitPriceCents === 9900 && r.body.items[0].available);
    expect(now.body.items[0]).toMatchObject({ unitPriceCents: 9900, lineTotalCents: 29700, available: true });
    expect(now.body.totalCents).toBe(29700);
    const del = await t.api('DELETE', `/api/cart/items/${p}`, { token: user.token });
    expect(del.status).toBe(200);
    expect(del.body.items).toEqual([]);
  });

  it('a signed-in cart survives the loss of its Redis keys: write-behind persists it and it reloads from Postgres', async () => {
    const p = await product('Foxtrot desk', 30000, 10);
    const q = await product('Golf pen', 150, 1000);
    const user = await register();
    await t.api('PUT', `/api/cart/items/${p}`, { body: { quantity: 1 }, token: user.token });
    await t.api('PUT', `/api/cart/items/${q}`, { body: { quantity: 7 }, token: user.token });
    const row = await eventually(
      async () => (await t.ctx.db.query('SELECT items FROM carts WHERE user_id = $1', [user.userId])).rows[0],
      (r) => r?.items?.[q] === 7,
    );
    expect(row.items).toEqual({ [p]: 1, [q]: 7 });
    const keys = cartKeys(t.config.redisPrefix);
    await t.ctx.redis.del(keys.user(user.userId));
    expect(await t.ctx.redis.exists(keys.user(user.userId))).toBe(0);
    const back = await t.api('GET', '/api/cart', { token: user.token });
    expect(qty(back.body)).toEqual({ [p]: 1, [q]: 7 });
    // A change to a lost cart is made on the reloaded cart, never on an empty one.
    await t.ctx.redis.del(keys.user(user.userId));
    const changed = await t.api('PUT', `/api/cart/items/${q}`, { body: { quantity: 8 }, token: user.token });
    expect(qty(changed.body)).toEqual({ [p]: 1, [q]: 8 });
    const ttl = await t.ctx.redis.pttl(keys.user(user.userId));
    expect(ttl).toBeGreaterThan(29 * 24 * 3600 * 1000);
    // A read on a later day refreshes the 30-day TTL too.
    await t.ctx.redis.hset(keys.user(user.userId), '_t', '1');
    await t.ctx.redis.pexpire(keys.user(user.userId), 60_000);
    expect(qty((await t.api('GET', '/api/cart', { token: user.token })).body)).toEqual({ [p]: 1, [q]: 8 });
    expect(await t.ctx.redis.pttl(keys.user(user.userId))).toBeGreaterThan(29 * 24 * 3600 * 1000);
  });

  it('write-behind: 300 carts reach Postgres in multi-row batches; an older version never overwrites a newer one', async () => {
    const carts = new CartService(t.ctx);
    const p = await product('Hotel towel', 1200, 100);
    const users: string[] = [];
    for (let i = 0; i < 300; i++) users.push((await t.ctx.db.query('INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id', [`bulk${i}@example.com`, 'x'])).rows[0].id);
    await Promise.all(users.map((u, i) => carts.store.set({ kind: 'user', userId: String(u) }, [[p, (i % 99) + 1]])));
    await carts.store.flushAll(1000);
    const { rows } = await t.ctx.db.query('SELECT user_id, items, version FROM carts WHERE user_id = ANY($1::bigint[]) ORDER BY user_id', [users]);
    expect(rows).toHaveLength(300);
    expect(rows.every((r, i) => r.items[p] === (i % 99) + 1)).toBe(true);
    // An out-of-order write (a slower flusher with an older read) is ignored.
    await t.ctx.db.query(
      `INSERT INTO carts (user_id, items, version) VALUES ($1, '{}', 0)
       ON CONFLICT (user_id) DO UPDATE SET items = EXCLUDED.items, version = EXCLUDED.version WHERE carts.version < EXCLUDED.version`,
      [users[0]],
    );
    expect((await t.ctx.db.query('SELECT items FROM carts WHERE user_id = $1', [users[0]])).rows[0].items).toEqual({ [p]: 1 });
    const left = await Promise.all(cartKeys(t.config.redisPrefix).allDirty().map((k) => t.ctx.redis.zcard(k)));
    expect(left.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('cart scripts on real Redis: the line limit changes nothing, sub drops lines at 0, merge never lowers a line', async () => {
    const carts = new CartService(t.ctx, { maxLines: 3 });
    const ref = { kind: 'anon' as const, cartId: `odd-cases-${++n}-0123456789` };
    const s1 = await carts.store.set(ref, [[1, 5], [2, 1], [3, 2]]);
    expect([...s1.lines]).toEqual([[1, 5], [2, 1], [3, 2]]);
    await expect(carts.store.set(ref, [[4, 1]])).rejects.toMatchObject({ code: 'conflict' });
    const after = await carts.store.read(ref);
    expect(after.version).toBe(s1.version);
    expect(after.lines.has(4)).toBe(false);
    expect([...(await carts.store.set(ref, [[1, 7]])).lines]).toContainEqual([1, 7]); // changing a line is not a new line
    const sub = await carts.store.subtract(ref, [[2, 1], [3, 1], [9, 4]]);
    expect(Object.fromEntries(sub.lines)).toEqual({ 1: 7, 3: 1 });
    // merge: 7 + 5 capped by stock 6 -> never below 7; 1 + 200 -> 99 and stock 500; new line 4 with stock 0 -> not added
    const merged = await carts.store.merge(ref, [[1, 5, 6], [3, 200, 500], [4, 2, 0], [5, 1, 10]]);
    expect(Object.fromEntries(merged.lines)).toEqual({ 1: 7, 3: 99, 5: 1 });
    // A merge past the line limit skips the extra lines instead of failing.
    const full = await carts.store.merge(ref, [[6, 1, 10]]);
    expect(full.lines.has(6)).toBe(false);
  });

  it('answers bad input with 4xx JSON: quantity 0/100/1.5/"2", unknown product, bad ids, bad cart token, bad bearer', async () => {
    const p = await product('India rug', 8000, 4);
    const user = await register();
    for (const body of [{ quantity: 0 }, { quantity: 100 }, { quantity: 1.5 }, { quantity: '2' }, {}, '[]']) {
      const res = await t.api('PUT', `/api/cart/items/${p}`, { body, token: user.token });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const unknown = await t.api('PUT', '/api/cart/items/987654321', { body: { quantity: 1 }, token: user.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      const res = await t.api('PUT', `/api/cart/items/${id}`, { body: { quantity: 1 }, token: user.token });
      expect(res.status, id).toBe(400);
    }
    for (const token of ['garbage', 'a.b', user.token]) {
      const res = await t.api('GET', '/api/cart', { headers: { 'x-cart-token': token } });
      expect(res.status, token).toBe(400);
      expect(res.body.error.field).toBe('x-cart-token');
    }
    // An empty header counts as no header: a new anonymous cart.
    const empty = await t.api('GET', '/api/cart', { headers: { 'x-cart-token': '' } });
    expect(empty.status).toBe(200);
    expect(empty.body.cartToken).toEqual(expect.any(String));
    expect((await t.api('GET', '/api/cart', { token: 'forged.token' })).status).toBe(401);
    expect((await t.api('GET', '/healthz')).status).toBe(200);
  });
});
