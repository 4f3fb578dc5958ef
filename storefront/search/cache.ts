import type { Redis } from '../../infra/redis.js';
import type { SearchParams, SearchResult } from './types.js';

/** The Redis counter every process compares against; bumped whenever what search shows changes. */
export const generationKey = (prefix: string) => `${prefix}search:generation`;
const changesKey = (prefix: string, generation: number) => `${prefix}search:changes:${generation}`;

/**
 * What changed in one generation: `full` (anything may have changed: drop every cached result) or only
 * in-stock flags flipping, as [productId, inStock] pairs.
 */
export type IndexChange = { full: true } | { full: false; stock: Array<[number, boolean]> };

/** Publishes a change: a new generation, with what changed kept for a minute for the caches to read. */
export async function bumpGeneration(redis: Redis, prefix: string, change: IndexChange = { full: true }): Promise<void> {
  const generation = await redis.incr(generationKey(prefix));
  if (!change.full) await redis.set(changesKey(prefix, generation), JSON.stringify(change.stock), 'PX', 60_000);
}

/**
 * A read may trail the newest generation by a step or two (another request advanced meanwhile); far behind
 * means the counter itself went back (Redis restarted empty), and everything cached is suspect.
 */
const resetGap = 10;

interface Entry {
  at: number;
  params: SearchParams;
  value: Promise<SearchResult>;
}

export interface SearchCacheOptions {
  max: number;
  ttlMs: number;
  /** Called when the index changed in a way the cache could not follow precisely. */
  onInvalidate?: () => void;
  /** See SearchBackend.affected. */
  affected?: (searches: SearchParams[], productIds: number[]) => Promise<boolean[]>;
}

/**
 * Search results cached in process, keyed by the normalised parameters, and kept in step with the index
 * generation in Redis (read on every lookup: one auto-pipelined GET), so a change shows as soon as it is
 * in the index. When the generation moves:
 * - if only in-stock flags flipped (the common case: stock selling out or coming back), results without an
 *   inStock filter are patched in place (a flag changes nothing else: not the total, facets or order), and
 *   results with one are dropped only if a flipped product matches their text and filters;
 * - otherwise (a new product, a price or name change, a missed generation) everything is dropped.
 * Concurrent misses for the same key share one backend query. Entries expire after `ttlMs`, and the least
 * recently used go first past `max`.
 */
export class SearchCache {
  private entries = new Map<string, Entry>();
  private generation = 0;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: SearchCacheOptions = { max: 5000, ttlMs: 60_000 },
  ) {}

  async get(key: string, params: SearchParams, compute: () => Promise<SearchResult>): Promise<SearchResult> {
    let generation: number;
    try {
      generation = Number((await this.redis.get(generationKey(this.prefix))) ?? 0);
    } catch {
      return compute(); // Redis unreachable: search still answers, straight from the backend
    }
    if (generation > this.generation) await this.advance(generation);
    else if (generation + resetGap < this.generation) this.reset(generation); // Redis lost the counter
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.opts.ttlMs) {
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, hit);
      return hit.value;
    }
    const entry: Entry = { at: now, params, value: compute() };
    this.entries.set(key, entry);
    if (this.entries.size > this.opts.max) this.entries.delete(this.entries.keys().next().value!);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  /** Moves to `generation`, one at a time (callers arriving meanwhile wait for the same work). */
  private advance(generation: number): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      if (generation <= this.generation) return;
      try {
        await this.follow(this.generation, generation);
      } catch {
        this.dropAll();
      }
      this.generation = Math.max(this.generation, generation);
    });
    return this.syncing;
  }

  private async follow(from: number, to: number): Promise<void> {
    if (to - from > 50 || this.entries.size === 0) return this.dropAll();
    const gens = Array.from({ length: to - from }, (_, i) => from + 1 + i);
    // one GET per generation, not an MGET: the keys sit in different slots on a Redis Cluster (auto-pipelining
    // sends them in one round trip per node either way)
    const raw = await Promise.all(gens.map((g) => this.redis.get(changesKey(this.prefix, g))));
    if (raw.some((r) => r === null)) return this.dropAll();
    const flips = new Map<number, boolean>();
    for (const r of raw) for (const [id, inStock] of JSON.parse(r!) as Array<[number, boolean]>) flips.set(id, inStock);
    const filtered: Array<[string, Entry]> = [];
    for (const [key, entry] of this.entries) {
      if (entry.params.inStock === undefined) {
        entry.value = entry.value.then((result) => patchStock(result, flips));
        entry.value.catch(() => {}); // a failed query is dropped by the handler on the original promise
      } else filtered.push([key, entry]);
    }
    if (filtered.length === 0) return;
    const hit = this.opts.affected ? await this.opts.affected(filtered.map(([, e]) => e.params), [...flips.keys()]) : filtered.map(() => true);
    filtered.forEach(([key, entry], i) => {
      if (hit[i] && this.entries.get(key) === entry) this.entries.delete(key);
    });
  }

  private reset(generation: number): void {
    this.dropAll();
    this.generation = generation;
  }

  private dropAll(): void {
    this.entries.clear();
    this.opts.onInvalidate?.();
  }
}

function patchStock(result: SearchResult, flips: Map<number, boolean>): SearchResult {
  if (!result.hits.some((h) => flips.has(h.id))) return result;
  return { ...result, hits: result.hits.map((h) => (flips.has(h.id) ? { ...h, inStock: flips.get(h.id)! } : h)) };
}
