import { luaScript, registerLua, runLua, type Lua } from '../infra/lua.js';
import type { Redis } from '../infra/redis.js';

/**
 * The scripts in lua/, registered with the infra loader. reserve, reserve-batch and cart-batch are
 * self-batched: their callers (reservation/batcher.ts, storefront/cart/batch.ts) already send one call per
 * event-loop turn for many requests, and ioredis auto-pipelining would wrap each such call in a pipeline
 * of its own, which costs more than the call.
 */
const scripts = registerLua(new URL('./lua/', import.meta.url), { selfBatched: ['reserve', 'reserve-batch', 'cart-batch'] });

export const loadScripts = (): Lua[] => Object.values(scripts);

/** Runs script `name` (file name without the key count) with its keys and args. */
export function runScript<T = unknown>(redis: Redis, name: string, keys: string[], args: Array<string | number>): Promise<T> {
  return runLua<T>(redis, luaScript(scripts, name), keys, args);
}
