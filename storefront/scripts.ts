import { luaScript, registerLua, runLua } from '../infra/lua.js';
import type { Redis } from '../infra/redis.js';

/**
 * The storefront's Lua scripts (lua/: the carts), one typed function each (after BullMQ's Scripts class):
 * the key list in the order of the script's header, the reply read in one place. cart-batch is
 * self-batched: its caller (cart/batch.ts) already sends one call per event-loop turn for many changes, and
 * ioredis auto-pipelining would wrap each such call in a pipeline of its own, which costs more than the call.
 */
const lua = registerLua(new URL('./lua/', import.meta.url), { selfBatched: ['cart-batch'] });
const APPLY = luaScript(lua, 'cart-apply');
const BATCH = luaScript(lua, 'cart-batch');
const CLEAN = luaScript(lua, 'cart-clean');
const LOAD = luaScript(lua, 'cart-load');
const TAKE = luaScript(lua, 'cart-take');

/** A cart-apply mode (lua/cart-apply-2.lua). */
export type ApplyMode = 'set' | 'sub' | 'merge' | 'touch';

/** One change of one cart, as cart-apply-2.lua takes it. */
export interface CartChange {
  /** The cart hash. */
  key: string;
  /** Its bucket's dirty set (a never-written key in the cart's slot for an anonymous cart). */
  dirty: string;
  mode: ApplyMode;
  /** A signed-in user's id, or "" for an anonymous cart. */
  user: string;
  /** The pairs or triples of the change. */
  values: number[];
}

/** cart-apply-2: one change; answers "OK,<version>,<id>,<qty>,...", "MISSING" or "FULL". */
export function cartApply(redis: Redis, settings: string, c: CartChange): Promise<string> {
  return runLua<string>(redis, APPLY, [c.key, c.dirty], [settings, c.mode, c.user, ...c.values]);
}

/**
 * cart-batch-n: several changes, each made as its own cart-apply call would make it, in order. Answers one
 * per change: what cart-apply answers, or an Error when Redis refused a command of that change.
 */
export async function cartBatch(redis: Redis, settings: string, batch: readonly CartChange[]): Promise<Array<string | Error>> {
  const keys: string[] = [];
  const argv: Array<string | number> = [settings];
  for (const c of batch) {
    keys.push(c.key, c.dirty);
    argv.push(c.mode, c.user, c.values.length);
    for (const v of c.values) argv.push(v);
  }
  const answers = (await runLua<string>(redis, BATCH, keys, argv)).split('|');
  const out: Array<string | Error> = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const answer = answers[i];
    if (answer === undefined) out[i] = new Error('cart-batch answered too few changes');
    else if (answer.startsWith('ERR ')) out[i] = new Error(`cart-batch: ${answer.slice(4)}`);
    else out[i] = answer;
  }
  return out;
}

/** cart-clean-1: after a flush, marks clean the carts not changed since (pairs: user id, version); how many. */
export function cartClean(redis: Redis, dirty: string, pairs: ReadonlyArray<string | number>): Promise<number> {
  return runLua<number>(redis, CLEAN, [dirty], pairs);
}

/** cart-load-2: puts a cart reloaded from Postgres back, unless a live one is there; true when loaded. */
export async function cartLoad(
  redis: Redis,
  key: string,
  dirty: string,
  a: { ttlMs: number; version: number | string; userId: string; today: string; pairs: ReadonlyArray<string | number> },
): Promise<boolean> {
  return (await runLua<number>(redis, LOAD, [key, dirty], [a.ttlMs, a.version, a.userId, a.today, ...a.pairs])) === 1;
}

/** cart-take-1: an anonymous cart's lines ("id1,qty1,..."; "" when none), deleting the cart in the same step. */
export function cartTake(redis: Redis, key: string): Promise<string> {
  return runLua<string>(redis, TAKE, [key], []);
}
