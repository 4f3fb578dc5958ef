import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from '../../test/harness.js';
import { bumpGeneration, SearchCache } from './cache.js';
import type { SearchParams, SearchResult } from './types.js';

/** The result cache against real Redis; the "backend" is a counter of how often results were computed. */
let w: TestWorld;

const params = (o: Partial<SearchParams> = {}): SearchParams => ({ q: '', sort: 'relevance', page: 1, pageSize: 20, ...o });
const result = (ids: number[]): SearchResult => ({
  total: ids.length,
  hits: ids.map((id) => ({ id, name: `p${id}`, priceCents: 100, category: 'c', inStock: true })),
  facets: { category: [{ value: 'c', count: ids.length }] },
});

beforeAll(async () => {
  w = await createTestWorld();
});

afterAll(async () => {
  await w?.cleanup();
});

function setup(affectedIds: Set<string> = new Set()) {
  let computed = 0;
  let invalidated = 0;
  const cache = new SearchCache(w.ctx.redis, w.config.redisPrefix, {
    max: 100,
    ttlMs: 60_000,
    onInvalidate: () => invalidated++,
    affected: async (searches) => searches.map((s) => affectedIds.has(s.q)),
  });
  const get = (key: string, p: SearchParams, ids: number[]) =>
    cache.get(key, p, async () => {
      computed++;
      await new Promise((r) => setTimeout(r, 5));
      return result(ids);
    });
  return { cache, get, computed: () => computed, invalidated: () => invalidated };
}

describe('search result cache', () => {
  it('100 concurrent identical misses run one query', async () => {
    const { get, computed } = setup();
    const results = await Promise.all(Array.from({ length: 100 }, () => get('k', params(), [1, 2])));
    expect(computed()).toBe(1);
    expect(new Set(results.map((r) => r.total))).toEqual(new Set([2]));
  });

  it('with Redis unreachable, every lookup goes to the backend instead of failing', async () => {
    const gone = new Redis(w.config.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const cache = new SearchCache(gone, w.config.redisPrefix);
    let computed = 0;
    const compute = async () => (computed++, result([1]));
    expect((await cache.get('k', params(), compute)).total).toBe(1);
    expect((await cache.get('k', params(), compute)).total).toBe(1);
    expect(computed).toBe(2);
    gone.disconnect();
  });

  it('a stock flip patches unfiltered results in place and drops only the in-stock-filtered results it can touch', async () => {
    const { get, computed } = setup(new Set(['phone']));
    await get('all', params(), [1, 2, 3]);
    await get('phone-in-stock', params({ q: 'phone', inStock: true }), [1, 2]);
    await get('tv-in-stock', params({ q: 'tv', inStock: true }), [7]);
    expect(computed()).toBe(3);
    await bumpGeneration(w.ctx.redis, w.config.redisPrefix, { full: false, stock: [[2, false]] });
    const all = await get('all', params(), [1, 2, 3]);
    expect(all.hits.map((h) => h.inStock)).toEqual([true, false, true]);
    expect(all.total).toBe(3);
    await get('tv-in-stock', params({ q: 'tv', inStock: true }), [7]);
    expect(computed()).toBe(3); // both kept
    await get('phone-in-stock', params({ q: 'phone', inStock: true }), [1]);
    expect(computed()).toBe(4); // dropped and recomputed
  });

  it('a full change, a generation whose changes are gone, or a counter that went back (Redis restarted) drops everything', async () => {
    const { get, computed, invalidated } = setup();
    await get('a', params(), [1]);
    await get('b', params({ inStock: false }), [2]);
    await bumpGeneration(w.ctx.redis, w.config.redisPrefix); // full
    await get('a', params(), [1]);
    await get('b', params({ inStock: false }), [2]);
    expect(computed()).toBe(4);
    expect(invalidated()).toBeGreaterThan(0);
    const g = await w.ctx.redis.incr(`${w.config.redisPrefix}search:generation`); // no change record
    expect(g).toBeGreaterThan(0);
    await get('a', params(), [1]);
    expect(computed()).toBe(5);
    await w.ctx.redis.set(`${w.config.redisPrefix}search:generation`, '20');
    await get('a', params(), [1]);
    expect(computed()).toBe(6);
    await w.ctx.redis.del(`${w.config.redisPrefix}search:generation`); // Redis lost it: the counter starts over
    await get('a', params(), [1]);
    expect(computed()).toBe(7);
  });
});
