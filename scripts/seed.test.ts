import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { catalogProduct, categories } from './catalog-data.js';

const run = promisify(execFile);
let w: TestWorld;

/** Runs one of our scripts the way `npm run` does, against this test's schema and Redis prefix. */
const script = (name: string, args: string[] = []) =>
  run('npx', ['tsx', `scripts/${name}.ts`, ...args], {
    env: { ...process.env, DB_SCHEMA: w.config.dbSchema, REDIS_PREFIX: w.config.redisPrefix, LOG_LEVEL: 'warn' },
    timeout: 120_000,
  });

const snapshot = async () =>
  (
    await w.ctx.db.query(
      `SELECT p.sku, p.name, p.description, p.category, p.price_cents, p.seller_id, i.quantity
       FROM products p JOIN inventory i ON i.product_id = p.id ORDER BY p.sku`,
    )
  ).rows;

beforeAll(async () => {
  w = await createTestWorld();
});

afterAll(async () => {
  await w?.cleanup();
});

describe('catalog data', () => {
  it('product i is always the same product, whatever else was generated', () => {
    const first = Array.from({ length: 50 }, (_, i) => catalogProduct(i));
    catalogProduct(12345);
    expect(Array.from({ length: 50 }, (_, i) => catalogProduct(i))).toEqual(first);
  });

  it('10,000 products: realistic names, every category, whole-cent prices, sellers, some out of stock', () => {
    const products = Array.from({ length: 10_000 }, (_, i) => catalogProduct(i));
    expect(new Set(products.map((p) => p.category))).toEqual(new Set(categories));
    expect(new Set(products.map((p) => p.sku)).size).toBe(10_000);
    for (const p of products) {
      expect(p.name.length).toBeGreaterThan(5);
      expect(p.description.length).toBeGreaterThan(20);
      expect(Number.isInteger(p.priceCents) && p.priceCents > 0).toBe(true);
      expect(p.sellerId).toBeGreaterThan(0);
    }
    const outOfStock = products.filter((p) => p.quantity === 0).length / products.length;
    expect(outOfStock).toBeGreaterThan(0.05);
    expect(outOfStock).toBeLessThan(0.3);
    expect(products.some((p) => /iPhone/.test(p.name))).toBe(true);
  });
});

describe('npm run seed and npm run search:reindex', () => {
  it('seed --count 3000 loads products with inventory and a search index, with progress on stderr; running it again changes nothing', async () => {
    const first = await script('seed', ['--count', '3000']);
    expect(first.stderr).toMatch(/products 3,000\/3,000 100%/);
    expect(first.stderr).toMatch(/seeded 3,000 products \(3,000 indexed\)/);
    const rows = await snapshot();
    expect(rows).toHaveLength(3000);
    expect(rows[0]).toMatchObject({ sku: 'SEED-0000001', name: catalogProduct(0).name, quantity: catalogProduct(0).quantity });
    await script('seed', ['--count', '3000']);
    expect(await snapshot()).toEqual(rows);
    const { rows: indexed } = await w.ctx.db.query('SELECT count(*)::int AS n FROM product_search');
    expect(indexed[0].n).toBe(3000);
  });

  it('search:reindex rebuilds the index from scratch', async () => {
    await w.ctx.db.query('DELETE FROM product_search WHERE product_id % 2 = 0');
    await w.ctx.db.query(`UPDATE product_search SET name = 'stale' WHERE product_id = 1`);
    const { stderr } = await script('search-reindex');
    expect(stderr).toMatch(/indexed 3,000 products/);
    const { rows } = await w.ctx.db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE s.name = p.name AND s.in_stock = (i.quantity > 0))::int AS same
       FROM product_search s JOIN products p ON p.id = s.product_id JOIN inventory i ON i.product_id = p.id`,
    );
    expect(rows[0]).toEqual({ n: 3000, same: 3000 });
  });

  it('a bad --count is refused with exit code 2', async () => {
    await expect(script('seed', ['--count', '-5'])).rejects.toMatchObject({ code: 2 });
  });
});
