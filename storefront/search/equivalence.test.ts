import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSearches, mixParams, searchMix, type MixEntry } from '../../bench/storefront-search-mix.js';
import { seedCatalog } from '../../scripts/seed-catalog.js';
import { createTestWorld, type TestWorld } from '../../test/harness.js';
import { PostgresSearch } from './postgres.js';
import type { SearchDocument } from './types.js';

/**
 * The postings path (default) against the first design (every match a row of product_search, ranked over its
 * whole document) on the whole generated query mix: the same total, facets and hits in the same order, before
 * and after the index changes under it (stock flips, price and name changes, new and deleted products).
 * 5,000 seeded products here; the 100k comparison is `BENCH_COMPARE=1 npm run bench:storefront`.
 */
let w: TestWorld;
let postings: PostgresSearch;
let scan: PostgresSearch;
const products = 5000;
let mix: MixEntry[];

const nextVersion = async () => Number((await w.ctx.db.query(`SELECT nextval('search_sync_version')::bigint AS v`)).rows[0].v);
const brief = (d: Awaited<ReturnType<typeof compareSearches>>) =>
  d.slice(0, 3).map((x) => `${x.path}\n  postings ${JSON.stringify(x.a).slice(0, 400)}\n  scan     ${JSON.stringify(x.b).slice(0, 400)}`).join('\n');

beforeAll(async () => {
  w = await createTestWorld();
  await seedCatalog(w.ctx.db, products);
  postings = new PostgresSearch(w.ctx.db, 'postings');
  scan = new PostgresSearch(w.ctx.db, 'scan');
  await postings.reindex();
  mix = searchMix(1200, products);
});

afterAll(async () => {
  await w?.cleanup();
});

describe('postings path and scan path give the same answers', () => {
  it('on the whole mix of 1,200 distinct searches (words, phrases, broad, narrow, typos, prefixes, filters, sorts, pages)', async () => {
    expect(mix.length).toBeGreaterThanOrEqual(1000);
    expect(new Set(mix.map((m) => m.path)).size).toBe(mix.length);
    for (const kind of ['word', 'broad', 'phrase', 'narrow', 'typo', 'prefix', 'browse']) expect(mix.some((m) => m.kind === kind)).toBe(true);
    const differences = await compareSearches(postings, scan, mix);
    expect(differences, brief(differences)).toEqual([]);
    // The mix is not trivially empty: most searches find something, and broad ones find a lot.
    const totals = await Promise.all(mix.slice(0, 300).map(async (m) => (await postings.search(mixParams(m.path))).total));
    expect(totals.filter((t) => t > 0).length).toBeGreaterThan(200);
    expect(Math.max(...totals)).toBeGreaterThan(products / 10);
  });

  it('after stock flips, price and name changes, new and deleted products, and a stale write the version guard refuses', async () => {
    const ids = (await w.ctx.db.query('SELECT product_id FROM product_search ORDER BY product_id')).rows.map((r) => Number(r.product_id));
    const docs = await postings.current(ids.filter((_, i) => i % 17 === 0));
    const changed: SearchDocument[] = docs.map((d, i) => {
      if (i % 4 === 0) return { ...d, inStock: !d.inStock };
      if (i % 4 === 1) return { ...d, priceCents: d.priceCents + 1234 };
      if (i % 4 === 2) return { ...d, name: `${d.name} Zyxcolor Edition`, category: i % 8 === 2 ? 'books' : d.category };
      return { ...d, description: `${d.description} Blackish trim.` };
    });
    const added: SearchDocument[] = Array.from({ length: 30 }, (_, k) => ({
      id: 1_000_000 + k,
      name: `Zyxcolor Black Phone ${k} Smartphone`,
      description: 'A new black phone. Sold by Summit Traders.',
      category: k % 2 ? 'phones' : 'gaming',
      priceCents: 10_000 + k * 1000,
      sellerId: 1,
      inStock: k % 3 !== 0,
    }));
    const deletes = ids.filter((_, i) => i % 23 === 5);
    await postings.apply({ upserts: [...changed, ...added], deletes, version: await nextVersion() });
    // An older write arrives late: the version guard keeps the newer rows, and the postings stay with them.
    await postings.apply({ upserts: docs.slice(0, 20), deletes: [added[0]!.id], version: 1 });
    const extra: MixEntry[] = ['zyxcolor', 'zyxcolor black', 'blackish', 'zyx', 'black', 'phone', 'zyxcolr']
      .flatMap((q) => [`q=${q}`, `q=${q}&sort=price_asc`, `q=${q}&inStock=true&maxPrice=30000`, `q=${q}&category=phones&page=2&pageSize=5`])
      .concat(['', 'category=books', 'inStock=false', 'category=phones&sort=price_desc&page=3'])
      .map((qs) => ({ kind: 'word', path: `/api/products/search?${qs}` }));
    const differences = await compareSearches(postings, scan, [...extra, ...mix]);
    expect(differences, brief(differences)).toEqual([]);
    expect((await postings.search({ q: 'zyxcolor', sort: 'relevance', page: 1, pageSize: 100 })).total).toBe(
      30 + changed.filter((d) => d.name.includes('Zyxcolor') && !deletes.includes(d.id)).length,
    );
  });

  it('a reindex rebuilds postings and counts that agree with the search rows', async () => {
    await postings.reindex();
    const { rows } = await w.ctx.db.query(
      `SELECT (SELECT count(*) FROM search_postings)::int AS postings,
              (SELECT sum(length(document)) FROM product_search)::int AS entries,
              (SELECT sum(n) FROM search_counts)::int AS counted,
              (SELECT count(*) FROM product_search)::int AS products`,
    );
    expect(rows[0].postings).toBe(rows[0].entries);
    expect(rows[0].counted).toBe(rows[0].postings);
    const differences = await compareSearches(postings, scan, mix.slice(0, 300));
    expect(differences, brief(differences)).toEqual([]);
  });
});
