import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../infra/db.js';
import { writeOutbox } from '../../infra/outbox.js';
import { seedCatalog } from '../../scripts/seed-catalog.js';
import { createTestWorld, type TestWorld } from '../../test/harness.js';
import { drainOutbox } from '../outbox-worker.js';
import { buildSearchRequest, ElasticsearchSearch } from './elasticsearch.js';
import { loadDocuments } from './documents.js';

/** True only when ELASTICSEARCH_URL is set and a server answers there; otherwise the suite below is skipped. */
const esUrl = process.env.ELASTICSEARCH_URL;
const esUp = esUrl
  ? await fetch(esUrl, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
  : false;

describe('Elasticsearch request (no server needed)', () => {
  it('text becomes a fuzzy multi_match over name, category and description; filters go in the filter clause; facets are a terms aggregation', () => {
    const req = buildSearchRequest('products', {
      q: 'iphnoe',
      category: 'phones',
      minPrice: 100,
      maxPrice: 900,
      inStock: true,
      sort: 'relevance',
      page: 3,
      pageSize: 10,
    });
    expect(req.query).toEqual({
      bool: {
        must: [{ multi_match: { query: 'iphnoe', fields: ['name^3', 'category^2', 'description'], fuzziness: 'AUTO', prefix_length: 1, operator: 'and' } }],
        filter: [{ term: { category: 'phones' } }, { range: { priceCents: { gte: 100, lte: 900 } } }, { term: { inStock: true } }],
      },
    });
    expect(req.aggs).toEqual({ category: { terms: { field: 'category', size: 100 } } });
    expect(req).toMatchObject({ from: 20, size: 10, track_total_hits: true });
    expect(buildSearchRequest('p', { q: '', sort: 'price_desc', page: 1, pageSize: 20 }).sort).toEqual([{ priceCents: 'desc' }, { id: 'asc' }]);
  });
});

describe.skipIf(!esUp)(`Elasticsearch backend against ${esUrl ?? 'ELASTICSEARCH_URL (unset)'}`, () => {
  let w: TestWorld;
  let es: ElasticsearchSearch;

  beforeAll(async () => {
    w = await createTestWorld({ elasticsearchUrl: esUrl });
    es = new ElasticsearchSearch(w.ctx.db, { node: esUrl!, index: `${w.config.dbSchema}_products` });
    await seedCatalog(w.ctx.db, 1000);
    expect(await es.reindex()).toBe(1000);
  });

  afterAll(async () => {
    if (es) {
      const behind = await es.client.indices.getAlias({ name: es.alias }).then(Object.keys, () => [] as string[]);
      if (behind.length) await es.client.indices.delete({ index: behind }).catch(() => {});
      await es.close();
    }
    await w?.cleanup();
  });

  it('"iphnoe" finds iPhones', async () => {
    const res = await es.search({ q: 'iphnoe', sort: 'relevance', page: 1, pageSize: 10 });
    expect(res.total).toBeGreaterThan(0);
    for (const hit of res.hits) expect(hit.name).toMatch(/iphone/i);
  });

  it('filters combine and the category facets add up to the total', async () => {
    const res = await es.search({ q: '', category: 'phones', minPrice: 30_000, maxPrice: 90_000, inStock: true, sort: 'price_asc', page: 1, pageSize: 100 });
    const { rows } = await w.ctx.db.query(
      `SELECT count(*)::int AS n FROM products p JOIN inventory i ON i.product_id = p.id
       WHERE p.category = 'phones' AND p.price_cents BETWEEN 30000 AND 90000 AND i.quantity > 0`,
    );
    expect(res.total).toBe(rows[0].n);
    expect(res.facets.category.reduce((s, f) => s + f.count, 0)).toBe(res.total);
  });

  it('an outbox drain reaches the index (in-stock flag included), and an older version never overwrites a newer one', async () => {
    const { rows } = await w.ctx.db.query('SELECT product_id AS id FROM inventory WHERE quantity > 0 ORDER BY product_id LIMIT 1');
    const id = Number(rows[0].id);
    await inTransaction(w.ctx.db, async (client) => {
      await client.query('UPDATE inventory SET quantity = 0 WHERE product_id = $1', [id]);
      await writeOutbox(client, 'product', id);
    });
    await drainOutbox(w.ctx, es);
    const doc = await es.client.get<{ inStock: boolean }>({ index: es.alias, id: String(id) });
    expect(doc._source?.inStock).toBe(false);
    const [stale] = await loadDocuments(w.ctx.db, [id]);
    await es.apply({ upserts: [{ ...stale!, inStock: true }], deletes: [], version: 1 });
    expect((await es.client.get<{ inStock: boolean }>({ index: es.alias, id: String(id) }))._source?.inStock).toBe(false);
  });
});
