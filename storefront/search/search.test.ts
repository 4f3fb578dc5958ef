import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalog } from '../../scripts/seed-catalog.js';
import { startTestEngine, type TestEngine } from '../../test/engine.js';
import { bumpGeneration } from './cache.js';
import { PostgresSearch } from './postgres.js';

/** Search over the real engine (Postgres backend, result cache on) with 3,000 seeded products. */
let t: TestEngine;
const count = 3000;

const search = (query: Record<string, string | number | boolean>) =>
  t.api('GET', `/api/products/search?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`);

/** Ground truth straight from products + inventory, not from the index. */
async function truth(where: string, args: unknown[]): Promise<{ total: number; byCategory: Record<string, number> }> {
  const { rows } = await t.ctx.db.query(
    `SELECT p.category, count(*)::int AS n FROM products p JOIN inventory i ON i.product_id = p.id WHERE ${where} GROUP BY p.category`,
    args,
  );
  return { total: rows.reduce((s, r) => s + r.n, 0), byCategory: Object.fromEntries(rows.map((r) => [r.category, r.n])) };
}

const facetMap = (body: any) => Object.fromEntries(body.facets.category.map((f: any) => [f.value, f.count]));
const facetSum = (body: any) => body.facets.category.reduce((s: number, f: any) => s + f.count, 0);

beforeAll(async () => {
  t = await startTestEngine();
  await seedCatalog(t.ctx.db, count);
  await new PostgresSearch(t.ctx.db).reindex();
  await bumpGeneration(t.ctx.redis, t.config.redisPrefix);
});

afterAll(async () => {
  await t?.cleanup();
});

describe('typo-tolerant search', () => {
  it('"iphnoe" finds iPhones, best matches first', async () => {
    const res = await search({ q: 'iphnoe' });
    expect(res.status).toBe(200);
    expect(res.body.total).toBeGreaterThan(0);
    expect(res.body.hits.length).toBeGreaterThan(0);
    for (const hit of res.body.hits.slice(0, 10)) expect(hit.name).toMatch(/iphone/i);
    expect(Object.keys(res.body.hits[0]).sort()).toEqual(['category', 'id', 'inStock', 'name', 'priceCents']);
  });

  it('misspelt brand and product words still find the product ("samsng galxy", "headphnes", "labtop")', async () => {
    const galaxy = await search({ q: 'samsng galxy' });
    expect(galaxy.body.hits[0].name).toMatch(/samsung galaxy/i);
    const headphones = await search({ q: 'headphnes', category: 'headphones' });
    expect(headphones.body.total).toBeGreaterThan(0);
    const laptop = await search({ q: 'labtop' });
    expect(laptop.body.hits[0].category).toBe('laptops');
  });

  it('a swapped pair of letters in a short word still finds it ("phnoe" finds phones, "lpatop" laptops)', async () => {
    const phones = await search({ q: 'phnoe' });
    expect(phones.body.total).toBeGreaterThan(0);
    expect(phones.body.hits[0].category).toBe('phones');
    const laptops = await search({ q: 'lpatop' });
    expect(laptops.body.total).toBeGreaterThan(0);
    expect(laptops.body.hits[0].category).toBe('laptops');
  });

  it('a prefix matches while typing ("macb" finds MacBooks)', async () => {
    const res = await search({ q: 'macb' });
    expect(res.body.total).toBeGreaterThan(0);
    for (const hit of res.body.hits) expect(hit.name).toMatch(/macbook/i);
  });

  it('every word must match: "sony headphones" returns only Sony headphones', async () => {
    const res = await search({ q: 'sony headphones', pageSize: 100 });
    expect(res.body.total).toBeGreaterThan(0);
    for (const hit of res.body.hits) {
      expect(hit.name).toMatch(/sony/i);
      expect(hit.category).toBe('headphones');
    }
  });
});

describe('filters and facets', () => {
  it('category, price range and in-stock combine, and the facet counts add up to the total', async () => {
    const res = await search({ category: 'phones', minPrice: 30_000, maxPrice: 90_000, inStock: true, pageSize: 100 });
    expect(res.status).toBe(200);
    const expected = await truth(`p.category = 'phones' AND p.price_cents BETWEEN 30000 AND 90000 AND i.quantity > 0`, []);
    expect(res.body.total).toBe(expected.total);
    expect(facetMap(res.body)).toEqual(expected.byCategory);
    expect(facetSum(res.body)).toBe(res.body.total);
    for (const hit of res.body.hits) {
      expect(hit.category).toBe('phones');
      expect(hit.priceCents).toBeGreaterThanOrEqual(30_000);
      expect(hit.priceCents).toBeLessThanOrEqual(90_000);
      expect(hit.inStock).toBe(true);
    }
  });

  it('text plus filters: facets per category match the catalog and add up to the total', async () => {
    const res = await search({ q: 'samsung', maxPrice: 100_000, inStock: false });
    const expected = await truth(
      `(p.name || ' ' || p.category || ' ' || p.description) ~* '\\msamsung' AND p.price_cents <= 100000 AND i.quantity = 0`,
      [],
    );
    expect(res.body.total).toBe(expected.total);
    expect(facetMap(res.body)).toEqual(expected.byCategory);
    expect(facetSum(res.body)).toBe(res.body.total);
    for (const hit of res.body.hits) expect(hit.inStock).toBe(false);
  });

  it('browsing with no text counts the whole catalog, facets adding up to it', async () => {
    const res = await search({});
    expect(res.body.total).toBe(count);
    expect(facetSum(res.body)).toBe(count);
    expect(res.body.hits).toHaveLength(20);
  });

  it('price sorts are ordered, and pages neither repeat nor skip', async () => {
    const asc = await search({ category: 'laptops', sort: 'price_asc', pageSize: 100 });
    const prices = asc.body.hits.map((h: any) => h.priceCents);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    const desc = await search({ q: 'laptop', sort: 'price_desc', pageSize: 50 });
    const dprices = desc.body.hits.map((h: any) => h.priceCents);
    expect(dprices).toEqual([...dprices].sort((a, b) => b - a));
    const seen = new Set<number>();
    const total = (await search({ q: 'black', pageSize: 30 })).body.total;
    for (let page = 1; (page - 1) * 30 < Math.min(total, 240); page++) {
      for (const hit of (await search({ q: 'black', pageSize: 30, page })).body.hits) {
        expect(seen.has(hit.id)).toBe(false);
        seen.add(hit.id);
      }
    }
    expect(seen.size).toBe(Math.min(total, 240));
  });
});

describe('bad parameters and hostile strings', () => {
  it.each([
    ['a negative price', { minPrice: -1 }, 'minPrice'],
    ['a negative max price', { maxPrice: -500 }, 'maxPrice'],
    ['a fractional price', { minPrice: '10.5' }, 'minPrice'],
    ['min above max', { minPrice: 500, maxPrice: 100 }, 'minPrice'],
    ['pageSize over 100', { pageSize: 101 }, 'pageSize'],
    ['pageSize 0', { pageSize: 0 }, 'pageSize'],
    ['an unknown sort', { sort: 'popularity' }, 'sort'],
    ['page 0', { page: 0 }, 'page'],
    ['paging past 10,000 results', { page: 200, pageSize: 100 }, 'page'],
    ['inStock that is not a boolean', { inStock: 'maybe' }, 'inStock'],
    ['a price that is not a number', { maxPrice: 'cheap' }, 'maxPrice'],
    ['a 10 KB query', { q: 'x'.repeat(10_240) }, 'q'],
    ['a category with a NUL byte', { category: 'phones\u0000' }, 'category'],
  ])('%s gets 400 naming the field', async (_what, query, field) => {
    const res = await search(query as Record<string, string | number>);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.field).toBe(field);
  });

  it('hostile strings (quotes, SQL, tsquery and regex syntax, control and odd Unicode) are searched safely: 200 or 400, never 500', async () => {
    const hostile = [
      `'`, `"`, `''`, `\\`, `' OR 1=1 --`, `"; DROP TABLE products; --`, `1'); DELETE FROM inventory; --`,
      `iphone' | 'x`, `!(a & b) <-> c:*`, `a:* & !b`, `(((`, `)))`, `.*`, `^$|[a-z]+{2,}`, `(?i)iphone`, `%`, `_`, `%_%`,
      `\u0000`, `a\u0000b`, `\u202e\u200b`, `😀📱`, `iPhone 😀`, `Ｉｐｈｏｎｅ`, `\ud83d`, `<script>alert(1)</script>`, `${'{'}{7*7}}`,
      `${'a'.repeat(200)}`, `${'ab '.repeat(66)}`, `NULL`, `undefined`, `-1`, `1e999`, `\r\n\t`,
    ];
    const results = await Promise.all(hostile.map((q) => search({ q })));
    results.forEach((res, i) => {
      expect([200, 400], `q=${JSON.stringify(hostile[i])}`).toContain(res.status);
      if (res.status === 200) expect(facetSum(res.body)).toBe(res.body.total);
    });
    const tenKb = await t.api('GET', `/api/products/search?q=${encodeURIComponent(`' OR 1=1; `.repeat(1024))}`);
    expect(tenKb.status).toBe(400);
    expect((await t.ctx.db.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBe(count);
  });
});

describe('GET /api/products/:id', () => {
  it('returns the product with its price and whether it is in stock', async () => {
    const { rows } = await t.ctx.db.query(
      `SELECT p.id, p.name, p.price_cents, i.quantity FROM products p JOIN inventory i ON i.product_id = p.id ORDER BY p.id LIMIT 1`,
    );
    const res = await t.api('GET', `/api/products/${rows[0].id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: String(rows[0].id), name: rows[0].name, priceCents: rows[0].price_cents, inStock: rows[0].quantity > 0 });
    expect(typeof res.body.sellerId).toBe('string'); // ids are strings on the wire
    expect(res.body.updatedAt).toMatch(/Z$/);
  });

  it('an unknown id is 404 and a malformed one 400', async () => {
    expect((await t.api('GET', '/api/products/999999999')).status).toBe(404);
    for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999', "1'%20OR%201=1"]) {
      const res = await t.api('GET', `/api/products/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });
});
