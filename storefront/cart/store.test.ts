import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cartApply, cartBatch, type ApplyMode } from '../scripts.js';
import { createTestWorld, type TestWorld } from '../../test/harness.js';
import { bucketOf, cartKeys } from './keys.js';
import { ProductLookup } from './products.js';
import { CartService } from './service.js';
import { renderCart } from './view.js';

let t: TestWorld;
let n = 0;

async function user(): Promise<string> {
  const { rows } = await t.ctx.db.query('INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id', [`store${++n}@example.com`, 'x']);
  return String(rows[0].id);
}

async function product(name: string, priceCents: number, stock: number): Promise<number> {
  const { rows } = await t.ctx.db.query('INSERT INTO products (sku, name, category, price_cents) VALUES ($1, $2, $3, $4) RETURNING id', [`store-${++n}`, name, 'Test', priceCents]);
  await t.ctx.db.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2)', [rows[0].id, stock]);
  return Number(rows[0].id);
}

/** Counts the Postgres queries whose text starts with `prefix` (the real pool still runs them). */
function countQueries(prefix: string): { count: () => number; stop: () => void } {
  const db = t.ctx.db as unknown as { query: (...a: unknown[]) => unknown };
  const original = db.query;
  let count = 0;
  db.query = function (this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string' && args[0].trimStart().startsWith(prefix)) count++;
    return original.apply(this, args);
  };
  return { count: () => count, stop: () => void (db.query = original) };
}

beforeAll(async () => {
  t = await createTestWorld();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('cart store', () => {
  it('50 requests at once on a cart Redis lost make one Postgres read, and all see the persisted lines', async () => {
    const carts = new CartService(t.ctx);
    const u = await user();
    await t.ctx.db.query(`INSERT INTO carts (user_id, items, version) VALUES ($1, '{"7": 3, "9": 1}', 5)`, [u]);
    const reads = countQueries('SELECT items, version FROM carts');
    try {
      const states = await Promise.all(Array.from({ length: 50 }, () => carts.store.read({ kind: 'user', userId: u })));
      expect(reads.count()).toBe(1);
      for (const s of states) expect(Object.fromEntries(s.lines)).toEqual({ 7: 3, 9: 1 });
      expect(states[0].version).toBe(5);
    } finally {
      reads.stop();
    }
  });

  it('a hash with only `_t` (a refresh that raced the cart going) is no cart: a user cart reloads over it, an anonymous one starts again', async () => {
    const carts = new CartService(t.ctx);
    const keys = cartKeys(t.config.redisPrefix);
    const u = await user();
    await t.ctx.db.query(`INSERT INTO carts (user_id, items, version) VALUES ($1, '{"4": 2}', 3)`, [u]);
    await t.ctx.redis.hset(keys.user(u), '_t', '1');
    const read = await carts.store.read({ kind: 'user', userId: u });
    expect(Object.fromEntries(read.lines)).toEqual({ 4: 2 });
    expect(await t.ctx.redis.hget(keys.user(u), '_v')).toBe('3');

    const anon = { kind: 'anon' as const, cartId: `stray-${++n}-0123456789abcdef` };
    await t.ctx.redis.hset(keys.anon(anon.cartId), '_t', '1');
    expect((await carts.store.read(anon)).lines.size).toBe(0);
    const changed = await carts.store.setOne(anon, 8, 2);
    expect(changed.version).toBe(1);
    expect(Object.fromEntries(changed.lines)).toEqual({ 8: 2 });
    expect(await t.ctx.redis.pttl(keys.anon(anon.cartId))).toBeGreaterThan(29 * 24 * 3600 * 1000);
  });

  it('a read on a later day refreshes the TTL and `_t` without a new version or a write-behind mark', async () => {
    const carts = new CartService(t.ctx);
    const keys = cartKeys(t.config.redisPrefix);
    const u = await user();
    const ref = { kind: 'user' as const, userId: u };
    const first = await carts.store.setOne(ref, 3, 1);
    await carts.store.flushAll();
    await t.ctx.redis.hset(keys.user(u), '_t', '1');
    await t.ctx.redis.pexpire(keys.user(u), 60_000);
    const read = await carts.store.read(ref);
    expect(read.version).toBe(first.version);
    expect(await t.ctx.redis.pttl(keys.user(u))).toBeGreaterThan(29 * 24 * 3600 * 1000);
    expect(await t.ctx.redis.hget(keys.user(u), '_t')).toBe(String(Math.floor(Date.now() / 86_400_000)));
    const dirty = await Promise.all(keys.allDirty().map((k) => t.ctx.redis.zscore(k, u)));
    expect(dirty.every((s) => s === null)).toBe(true);
  });

  it('a set of several lines that would pass the line limit changes nothing at all', async () => {
    const carts = new CartService(t.ctx, { maxLines: 3 });
    const ref = { kind: 'anon' as const, cartId: `limit-${++n}-0123456789abcdef` };
    await carts.store.set(ref, [[1, 1]]);
    await expect(carts.store.set(ref, [[2, 1], [3, 1], [4, 1]])).rejects.toMatchObject({ code: 'conflict' });
    const after = await carts.store.read(ref);
    expect(Object.fromEntries(after.lines)).toEqual({ 1: 1 });
    expect(after.version).toBe(1);
  });
});

describe('cart-batch-n.lua', () => {
  const settings = () => `${30 * 24 * 3600 * 1000}:3:99:${Math.floor(Date.now() / 86_400_000)}`;
  type Change = { cart: 'u1' | 'u2' | 'a1' | 'a2'; mode: ApplyMode; values: number[] };
  // Line limit 3; u1 holds 2 lines, u2's cart is gone from Redis, a1 is new, a2 holds one line.
  const changes: Change[] = [
    { cart: 'u1', mode: 'set', values: [12, 3] },
    { cart: 'u1', mode: 'set', values: [13, 1] }, // FULL
    { cart: 'u2', mode: 'set', values: [10, 1] }, // MISSING
    { cart: 'a1', mode: 'set', values: [30, 2, 31, 1] },
    { cart: 'u1', mode: 'sub', values: [10, 1, 11, 5] },
    { cart: 'u1', mode: 'merge', values: [13, 200, 150, 12, 98, 50] },
    { cart: 'a2', mode: 'touch', values: [] },
    { cart: 'u2', mode: 'touch', values: [] },
    { cart: 'a1', mode: 'set', values: [30, 0] },
    { cart: 'u1', mode: 'set', values: [10, 0] },
    { cart: 'a2', mode: 'merge', values: [21, 5, 0] },
    { cart: 'a1', mode: 'set', values: [32, 7, 33, 1, 34, 1] }, // FULL: nothing of it
    { cart: 'a1', mode: 'set', values: [31, 99] },
  ];

  async function world(tag: string) {
    const keys = cartKeys(`${t.config.redisPrefix}${tag}:`);
    const where = {
      u1: [keys.user('1'), keys.dirty(bucketOf('1')), '1'],
      u2: [keys.user('2'), keys.dirty(bucketOf('2')), '2'],
      a1: [keys.anon('a1'), keys.anonNoDirty('a1'), ''],
      a2: [keys.anon('a2'), keys.anonNoDirty('a2'), ''],
    } as const;
    await t.ctx.redis.hset(where.u1[0], '_v', 4, '_t', 1, 10, 2, 11, 1);
    await t.ctx.redis.hset(where.a2[0], '_v', 1, '_t', 1, 20, 5);
    const state = async () => {
      const out: Record<string, unknown> = {};
      for (const [name, [key, dirty]] of Object.entries(where)) {
        out[name] = { hash: await t.ctx.redis.hgetall(key), ttl: (await t.ctx.redis.pttl(key)) > 29 * 24 * 3600 * 1000 };
        out[`${name} dirty`] = await t.ctx.redis.zrange(dirty, '0', '-1', 'WITHSCORES');
      }
      return out;
    };
    return { where, state };
  }

  it('answers each change of a batch exactly as its own cart-apply call, and leaves the same carts and dirty marks', async () => {
    const one = await world('one');
    const expected: string[] = [];
    for (const c of changes) {
      const [key, dirty, user] = one.where[c.cart];
      expected.push(await cartApply(t.ctx.redis, settings(), { key, dirty, mode: c.mode, user, values: c.values }));
    }
    expect(expected.map((a) => a.split(',')[0])).toEqual(['OK', 'FULL', 'MISSING', 'OK', 'OK', 'OK', 'OK', 'MISSING', 'OK', 'OK', 'OK', 'FULL', 'OK']);

    const many = await world('many');
    const batch = changes.map((c) => {
      const [key, dirty, user] = many.where[c.cart];
      return { key, dirty, mode: c.mode, user, values: c.values };
    });
    const got = await cartBatch(t.ctx.redis, settings(), batch);
    expect(got).toEqual(expected);
    expect(await many.state()).toEqual(await one.state());
  });

  it('a change Redis refuses (a cart key of the wrong type) fails alone: the changes around it are made', async () => {
    const keys = cartKeys(`${t.config.redisPrefix}wrongtype:`);
    await t.ctx.redis.set(keys.anon('bad'), 'x');
    const change = (cart: string, values: number[]) => ({ key: keys.anon(cart), dirty: keys.anonNoDirty(cart), mode: 'set' as const, user: '', values });
    const got = await cartBatch(t.ctx.redis, settings(), [change('x', [1, 1]), change('bad', [1, 1]), change('y', [2, 2])]);
    expect(got[0]).toBe('OK,1,1,1');
    expect(got[1]).toBeInstanceOf(Error);
    expect(String(got[1])).toMatch(/cart-batch: .*WRONGTYPE/);
    expect(got[2]).toBe('OK,1,2,2');
    await expect(cartApply(t.ctx.redis, settings(), change('bad', [1, 1]))).rejects.toThrow(/WRONGTYPE/);
  });

  it('200 changes at once through the store (batched) give each caller its own answer and the carts of the same changes made one by one', async () => {
    const carts = new CartService(t.ctx);
    const users = await Promise.all(Array.from({ length: 10 }, () => user()));
    const ops = Array.from({ length: 200 }, (_, i) => ({ ref: { kind: 'user' as const, userId: users[i % 10] }, id: 100 + (i % 7), qty: i % 5 }));
    const answers = await Promise.all(ops.map((o) => carts.store.setOne(o.ref, o.id, o.qty)));
    // In arrival order, each answer is the cart right after that change.
    const model = new Map<string, Map<number, number>>();
    ops.forEach((o, i) => {
      const lines = model.get(o.ref.userId) ?? new Map<number, number>();
      model.set(o.ref.userId, lines);
      if (o.qty === 0) lines.delete(o.id);
      else lines.set(o.id, o.qty);
      expect(Object.fromEntries(answers[i].lines)).toEqual(Object.fromEntries(lines));
      expect(answers[i].version).toBe(Math.floor(i / 10) + 1);
    });
    for (const u of users) expect(Object.fromEntries((await carts.store.read({ kind: 'user', userId: u })).lines)).toEqual(Object.fromEntries(model.get(u)!));
  });
});

describe('cart answers', () => {
  it('the JSON text is what JSON.stringify of the view gives: lines by product id, products gone left out, names escaped', async () => {
    const a = await product('Quote "and" backslash \\ café ☕', 1999, 2);
    const b = await product('Plain mug', 500, 0);
    const gone = 987_654_321;
    const products = new ProductLookup(t.ctx.db);
    const found = await products.get([a, b, gone]);
    const lines = new Map([
      [b, 1],
      [gone, 4],
      [a, 3],
    ]);
    const expected = {
      items: [a, b]
        .sort((x, y) => x - y)
        .map((id) => {
          const p = found.get(id)!;
          const quantity = lines.get(id)!;
          return { productId: String(id), name: p.name, quantity, unitPriceCents: p.priceCents, lineTotalCents: p.priceCents * quantity, inStock: p.stock > 0, available: p.stock >= quantity };
        }),
      itemCount: 4,
      totalCents: 1999 * 3 + 500,
      available: false,
    };
    expect(renderCart(lines, (id) => found.get(id))).toBe(JSON.stringify(expected));
    expect(renderCart(lines, (id) => found.get(id), 'tok.en')).toBe(JSON.stringify({ ...expected, cartToken: 'tok.en' }));
    expect(renderCart(new Map(), () => undefined)).toBe('{"items":[],"itemCount":0,"totalCents":0,"available":true}');
  });

  it('products carts keep showing are re-read in the background, many in one query, and a price change shows', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => product(`Hot ${i}`, 100 + i, 10)));
    const products = new ProductLookup(t.ctx.db, 200);
    await products.get(ids);
    const queries = countQueries('SELECT p.id, p.name, p.price_cents');
    try {
      await t.ctx.db.query('UPDATE products SET price_cents = 7777 WHERE id = $1', [ids[0]]);
      let seen: number | undefined;
      for (let i = 0; i < 200 && seen !== 7777; i++) {
        const found = await products.get(ids);
        seen = found.get(ids[0])?.priceCents;
        expect(found.size).toBe(20);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(seen).toBe(7777);
      // Re-read one product at a time, this would take at least 20 queries.
      expect(queries.count()).toBeLessThan(20);
    } finally {
      queries.stop();
    }
  });
});
