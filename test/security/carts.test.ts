import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../engine.js';

let t: TestEngine;
let productId: string;
beforeAll(async () => {
  t = await startTestEngine({ anonCartsPerIpPerHour: 5 }, false);
  const p = await t.api('POST', '/admin/products', { token: t.config.adminApiKey, body: { sku: 'cart-1', name: 'Mug', priceCents: 900, stock: 100 } });
  productId = p.body.id;
});
afterAll(() => t?.cleanup());

const anonKeys = async () => (await t.ctx.redis.keys(`${t.config.redisPrefix}cart:{a:*`)).filter((k) => !k.endsWith(':merged'));

describe('anonymous carts', () => {
  it('reading or removing without a token makes no cart (a first read gets a token, nothing stored); adding a line makes one, with a 7-day TTL', async () => {
    const before = (await anonKeys()).length;
    const get = await t.api('GET', '/api/cart');
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ items: [], itemCount: 0, totalCents: 0, available: true, cartToken: expect.any(String) });
    expect(get.headers.get('x-cart-token')).toBe(get.body.cartToken);
    expect(await anonKeys()).toHaveLength(before);
    const del = await t.api('DELETE', `/api/cart/items/${productId}`);
    expect(del.status).toBe(200);
    expect(await anonKeys()).toHaveLength(before);
    const put = await t.api('PUT', `/api/cart/items/${productId}`, { body: { quantity: 2 } });
    expect(put.status).toBe(200);
    const token = put.headers.get('x-cart-token')!;
    expect(token).toBeTruthy();
    const keys = await anonKeys();
    expect(keys).toHaveLength(before + 1);
    const ttl = await t.ctx.redis.pttl(keys.find((k) => !k.endsWith(':none'))!);
    expect(ttl).toBeGreaterThan(6.9 * 24 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600_000);
    const again = await t.api('GET', '/api/cart', { headers: { 'x-cart-token': token } });
    expect(again.body.itemCount).toBe(2);
  });

  it('anonymous cart creation is limited per address: 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await t.api('PUT', `/api/cart/items/${productId}`, { body: { quantity: 1 } });
      statuses.push(r.status);
      if (r.status === 429) retry = r.headers.get('retry-after');
    }
    // One cart was made by the test before; 5 per hour in this engine.
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.slice(4)).toEqual([429, 429]);
    expect(Number(retry)).toBeGreaterThan(0);
  });

  it('a cart token is void once merged: a second account signing in with it merges nothing, and using it is a 400', async () => {
    await t.ctx.redis.del(...(await t.ctx.redis.keys(`${t.config.redisPrefix}rl:*`)));
    const put = await t.api('PUT', `/api/cart/items/${productId}`, { body: { quantity: 3 } });
    const token = put.headers.get('x-cart-token')!;
    const first = await t.api('POST', '/api/auth/register', { body: { email: 'first@example.com', password: 'a long enough pass' }, headers: { 'x-cart-token': token } });
    expect(first.status).toBe(201);
    expect((await t.api('GET', '/api/cart', { token: first.body.token })).body.itemCount).toBe(3);
    const reuse = await t.api('PUT', `/api/cart/items/${productId}`, { body: { quantity: 1 }, headers: { 'x-cart-token': token } });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error.field).toBe('x-cart-token');
    expect((await t.api('GET', '/api/cart', { headers: { 'x-cart-token': token } })).status).toBe(400);
    const second = await t.api('POST', '/api/auth/register', { body: { email: 'second@example.com', password: 'a long enough pass' }, headers: { 'x-cart-token': token } });
    expect(second.status).toBe(201);
    expect((await t.api('GET', '/api/cart', { token: second.body.token })).body.itemCount).toBe(0);
  });
});
