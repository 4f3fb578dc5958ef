import type { Context } from '../../infra/context.js';
import { AppError } from '../../infra/errors.js';
import { cartClean, cartLoad, cartTake, type ApplyMode } from '../scripts.js';
import { CartBatcher } from './batch.js';
import { bucketOf, cartKeys, type CartKeys } from './keys.js';

/** Which cart: a signed-in user's (persisted) or an anonymous one (Redis only). */
export type CartRef = { kind: 'user'; userId: string } | { kind: 'anon'; cartId: string };

/** product id -> quantity, in the order Redis returned them. */
export type Lines = Map<number, number>;

export interface CartState {
  version: number;
  lines: Lines;
}

export interface CartLimits {
  /** Idle life of a cart in Redis, refreshed on every read and change (30 days). */
  ttlMs: number;
  /** Most distinct products in one cart. */
  maxLines: number;
  /** Most units of one product (99). */
  maxQuantity: number;
}

export const defaultLimits: CartLimits = { ttlMs: 30 * 24 * 3600 * 1000, maxLines: 100, maxQuantity: 99 };

/** Today in epoch days, as text: a cart's TTL is refreshed by reads at most once a day (`_t` holds the day). */
let day = -1;
let dayText = '';
function today(): string {
  const now = Math.floor(Date.now() / 86_400_000);
  if (now !== day) {
    day = now;
    dayText = String(now);
  }
  return dayText;
}

/** Lines from a flat list (product id, quantity, ...) from `start` on: a script's answer split at commas. */
function linesFrom(flat: string[], start = 0): Lines {
  const lines: Lines = new Map();
  for (let i = start; i + 1 < flat.length; i += 2) lines.set(Number(flat[i]), Number(flat[i + 1]));
  return lines;
}

/**
 * The cart in a cart-apply answer, "OK,<version>,<id1>,<qty1>,...", read digit by digit (ids and quantities
 * are non-negative integers), which is cheaper than splitting it into strings and converting each.
 */
function stateOf(answer: string): CartState {
  const lines: Lines = new Map();
  const end = answer.length;
  let i = 3;
  let version = 0;
  for (; i < end; i++) {
    const c = answer.charCodeAt(i);
    if (c === 44) break;
    version = version * 10 + (c - 48);
  }
  let id = -1;
  let n = 0;
  for (i++; i <= end; i++) {
    const c = i < end ? answer.charCodeAt(i) : 44;
    if (c !== 44) n = n * 10 + (c - 48);
    else {
      if (id < 0) id = n;
      else {
        lines.set(id, n);
        id = -1;
      }
      n = 0;
    }
  }
  return { version, lines };
}

/** A cart hash from a raw HGETALL reply (field, value, ...): its `_v`, `_t` and lines. */
function cartOf(flat: string[]): { v: string | undefined; t: string | undefined; lines: Lines } {
  let v: string | undefined;
  let t: string | undefined;
  const lines: Lines = new Map();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i];
    if (field.charCodeAt(0) !== 95) lines.set(Number(field), Number(flat[i + 1]));
    else if (field === '_v') v = flat[i + 1];
    else if (field === '_t') t = flat[i + 1];
  }
  return { v, t, lines };
}

/**
 * The live carts in Redis (one hash each) and their write-behind copy in Postgres.
 *
 * A signed-in user's change marks the cart dirty (zset score = the cart's version); `flush` later writes
 * dirty carts to Postgres in one multi-row upsert per batch, and forgets only those not changed since they
 * were read. A user's cart that Redis no longer has is reloaded from Postgres before it is read or changed.
 * Anonymous carts live in Redis only, with the same TTL.
 */
export class CartStore {
  readonly keys: CartKeys;
  private batcher: CartBatcher;
  private reloading = new Map<string, Promise<void>>();
  private settingsDay = '';
  private settingsArg = '';

  constructor(
    private ctx: Context,
    readonly limits: CartLimits = defaultLimits,
  ) {
    this.keys = cartKeys(ctx.config.redisPrefix);
    this.batcher = new CartBatcher(ctx.redis, () => this.settings());
  }

  key(ref: CartRef): string {
    return ref.kind === 'user' ? this.keys.user(ref.userId) : this.keys.anon(ref.cartId);
  }

  /**
   * Reads a cart (one HGETALL) and refreshes its TTL when that was last done on another day; a user's cart
   * missing from Redis comes back from Postgres.
   */
  read(ref: CartRef, reloaded = false): Promise<CartState> {
    // The raw reply (a flat list) is much cheaper for ioredis than hgetall's object.
    return (this.ctx.redis.call('HGETALL', this.key(ref)) as Promise<string[]>).then((flat): CartState | Promise<CartState> => {
      const { v, t, lines } = cartOf(flat);
      if (v === undefined) {
        if (ref.kind === 'anon') return { version: 0, lines: new Map() };
        if (reloaded) throw new AppError('unavailable', 'the cart could not be loaded; try again');
        return this.reload(ref.userId).then(() => this.read(ref, true));
      }
      const state = { version: Number(v), lines };
      return t === today() ? state : this.apply(ref, 'touch', []).then(() => state);
    });
  }

  /** Sets quantities (0 removes a line). Throws 409 when the cart would pass its line limit. */
  set(ref: CartRef, changes: Array<[number, number]>): Promise<CartState> {
    return this.apply(ref, 'set', changes.flat());
  }

  /** Sets one line's quantity (0 removes it), as `set`. */
  setOne(ref: CartRef, productId: number, quantity: number): Promise<CartState> {
    return this.apply(ref, 'set', [productId, quantity]);
  }

  /** Takes units off lines (after a checkout bought them); lines reaching 0 go. */
  subtract(ref: CartRef, changes: Array<[number, number]>): Promise<CartState> {
    return this.apply(ref, 'sub', changes.flat());
  }

  /** Adds units to lines, each capped by the unit limit and by its stock (never lowering a line). */
  merge(ref: CartRef, adds: Array<[number, number, number]>): Promise<CartState> {
    return this.apply(ref, 'merge', adds.flat());
  }

  /** Takes an anonymous cart whole (read and delete in one step). */
  async take(cartId: string): Promise<Lines> {
    return linesFrom((await cartTake(this.ctx.redis, this.keys.anon(cartId))).split(','));
  }

  /**
   * One cart-apply change (coalesced with the others of this event-loop turn, batch.ts); a user's cart that
   * Redis lost is reloaded and the change made on it.
   */
  private apply(ref: CartRef, mode: ApplyMode, changes: number[], attempt = 0): Promise<CartState> {
    const user = ref.kind === 'user';
    const key = user ? this.keys.user(ref.userId) : this.keys.anon(ref.cartId);
    const dirty = user ? this.keys.dirty(bucketOf(ref.userId)) : this.keys.anonNoDirty(ref.cartId);
    return this.batcher.apply(key, dirty, mode, user ? ref.userId : '', changes).then((answer): CartState | Promise<CartState> => {
      if (answer.charCodeAt(0) === 79) return stateOf(answer); // "OK,..."
      if (answer === 'FULL') throw new AppError('conflict', `a cart holds at most ${this.limits.maxLines} different products`);
      if (answer !== 'MISSING') throw new Error(`cart-apply answered ${answer}`);
      if (!user || mode === 'touch') return { version: 0, lines: new Map() };
      if (attempt === 2) throw new AppError('unavailable', 'the cart could not be loaded; try again');
      return this.reload(ref.userId).then(() => this.apply(ref, mode, changes, attempt + 1));
    });
  }

  /** cart-apply's ARGV[1], "<ttl>:<maxLines>:<maxQuantity>:<today>" (made once a day, read per call). */
  private settings(): string {
    const day = today();
    if (this.settingsDay !== day) {
      const l = this.limits;
      this.settingsDay = day;
      this.settingsArg = `${l.ttlMs}:${l.maxLines}:${l.maxQuantity}:${day}`;
    }
    return this.settingsArg;
  }

  /**
   * Puts a user's persisted cart back into Redis (unless a live copy appeared meanwhile). Concurrent calls
   * for one user share one load: a burst of requests on a cold cart costs one Postgres read, not one each.
   */
  reload(userId: string): Promise<void> {
    let loading = this.reloading.get(userId);
    if (!loading) {
      loading = this.load(userId).finally(() => this.reloading.delete(userId));
      this.reloading.set(userId, loading);
    }
    return loading;
  }

  private async load(userId: string): Promise<void> {
    const { rows } = await this.ctx.db.query('SELECT items, version FROM carts WHERE user_id = $1', [userId]);
    const items: Record<string, number> = rows[0]?.items ?? {};
    const version = rows[0]?.version ?? 0;
    const pairs = Object.entries(items).flatMap(([id, qty]) => [id, qty]);
    const loaded = await cartLoad(this.ctx.redis, this.keys.user(userId), this.keys.dirty(bucketOf(userId)), {
      ttlMs: this.limits.ttlMs,
      version,
      userId,
      today: today(),
      pairs,
    });
    if (loaded && rows.length) this.ctx.log.debug({ userId, version }, 'cart reloaded from Postgres');
  }

  /**
   * Writes up to `batch` dirty carts (across the buckets) to Postgres in one upsert, where a newer version is
   * never replaced by an older one, then marks clean those unchanged since they were read. Returns how many
   * carts were handled, and whether a bucket had more waiting.
   */
  async flush(batch = 500): Promise<{ carts: number; more: boolean }> {
    const redis = this.ctx.redis;
    const buckets = this.keys.allDirty();
    const per = Math.max(1, Math.ceil(batch / buckets.length));
    const found = await Promise.all(buckets.map((k) => redis.zrange(k, '0', String(per - 1), 'WITHSCORES')));
    const users: string[] = [];
    const scores: number[] = [];
    const bucketOfIndex: number[] = [];
    found.forEach((flat, b) => {
      for (let i = 0; i < flat.length; i += 2) {
        users.push(flat[i]);
        scores.push(Number(flat[i + 1]));
        bucketOfIndex.push(b);
      }
    });
    if (users.length === 0) return { carts: 0, more: false };
    const more = found.some((flat) => flat.length / 2 >= per);
    const hashes = await Promise.all(users.map((u) => redis.call('HGETALL', this.keys.user(u)) as Promise<string[]>));
    const ids: string[] = [];
    const itemsJson: string[] = [];
    const versions: number[] = [];
    const clean = new Map<number, Array<string | number>>();
    hashes.forEach((flat, i) => {
      const pairs = clean.get(bucketOfIndex[i]) ?? [];
      clean.set(bucketOfIndex[i], pairs);
      const { v, lines } = cartOf(flat);
      if (v === undefined) {
        // Expired or lost in Redis: nothing newer than Postgres to write.
        pairs.push(users[i], scores[i]);
        return;
      }
      ids.push(users[i]);
      itemsJson.push(JSON.stringify(Object.fromEntries(lines)));
      versions.push(Number(v));
      pairs.push(users[i], Number(v));
    });
    if (ids.length) {
      await this.ctx.db.query(
        `INSERT INTO carts (user_id, items, version, updated_at)
         SELECT c.user_id, c.items, c.version, now()
           FROM unnest($1::bigint[], $2::jsonb[], $3::bigint[]) AS c (user_id, items, version)
           JOIN users u ON u.id = c.user_id
         ON CONFLICT (user_id) DO UPDATE SET items = EXCLUDED.items, version = EXCLUDED.version, updated_at = now()
          WHERE carts.version < EXCLUDED.version`,
        [ids, itemsJson, versions],
      );
    }
    await Promise.all([...clean].map(([b, pairs]) => cartClean(redis, buckets[b], pairs)));
    return { carts: users.length, more };
  }

  /** Flushes until nothing is dirty (or `maxBatches` batches were written). */
  async flushAll(batch = 500, maxBatches = 100): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const { carts, more } = await this.flush(batch);
      total += carts;
      if (!more) break;
    }
    return total;
  }
}
