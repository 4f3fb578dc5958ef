import type { Redis } from '../../infra/redis.js';
import type { SearchResult } from './types.js';

/** The Redis counter every process compares against; bumped whenever the index changes. */
export const generationKey = (prefix: string) => `${prefix}search:generation`;

export async function bumpGeneration(redis: Redis, prefix: string): Promise<void> {
  await redis.incr(generationKey(prefix));
}

/**
 * Search results cached in process, keyed by the normalised parameters, and valid for one index
 * generation: the outbox worker bumps the generation in Redis after every drain that changed something,
 * and each lookup reads it (one auto-pipelined GET), so a change shows as soon as it is in the index.
 * Concurrent misses for the same key share one backend query. Entries also expire after `ttlMs`, and the
 * least recently used go first past `max`.
 */
export class SearchCache {
  private entries = new Map<string, { at: number; value: Promise<SearchResult> }>();
  private generation: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: { max: number; ttlMs: number; onInvalidate?: () => void } = { max: 5000, ttlMs: 60_000 },
  ) {}

  async get(key: string, compute: () => Promise<SearchResult>): Promise<SearchResult> {
    const generation = await this.redis.get(generationKey(this.prefix));
    if (generation !== this.generation) {
      this.entries.clear();
      this.generation = generation;
      this.opts.onInvalidate?.();
    }
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.opts.ttlMs) {
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = compute();
    const entry = { at: now, value };
    this.entries.set(key, entry);
    if (this.entries.size > this.opts.max) this.entries.delete(this.entries.keys().next().value!);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
