import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from '../infra/redis.js';

/**
 * Loads every `lua/<name>-<numberOfKeys>.lua` and registers it with ioredis `defineCommand` as
 * `<camelName>V<SCRIPT_VERSION>`, so two versions of the engine can share one Redis. Lines of the form
 * `--- @include "includes/x"` are replaced by that file (BullMQ's convention; an included file may include
 * others). A script named `<name>-n.lua` takes a varying number of keys: runScript passes the count of the
 * keys it is given.
 */
export const SCRIPT_VERSION = 1;
const luaDir = fileURLToPath(new URL('./lua/', import.meta.url));

interface Script {
  name: string;
  command: string;
  /** undefined: varies per call (`<name>-n.lua`). */
  numberOfKeys: number | undefined;
  lua: string;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Inlines includes, also those of an included file; each file once per script (later mentions are dropped). */
function inline(lua: string, seen = new Set<string>()): string {
  return lua.replace(/^--- @include "([^"]+)"$/gm, (_, path: string) => {
    if (seen.has(path)) return '';
    seen.add(path);
    return inline(readFileSync(`${luaDir}${path}.lua`, 'utf8'), seen);
  });
}

let cache: Script[] | undefined;
export function loadScripts(): Script[] {
  cache ??= readdirSync(luaDir)
    .filter((f) => f.endsWith('.lua'))
    .map((file) => {
      const m = /^(.+)-(\d+|n)\.lua$/.exec(file);
      if (!m) throw new Error(`Lua script ${file} must be named <name>-<numberOfKeys>.lua or <name>-n.lua`);
      return {
        name: m[1],
        command: `${camel(m[1])}V${SCRIPT_VERSION}`,
        numberOfKeys: m[2] === 'n' ? undefined : Number(m[2]),
        lua: inline(readFileSync(luaDir + file, 'utf8')),
      };
    });
  return cache;
}

let names: Map<string, Script> | undefined;
const byName = () => (names ??= new Map(loadScripts().map((s) => [s.name, s])));

const defined = new WeakSet<Redis>();

/**
 * Scripts whose callers already send one call per event-loop turn for many requests (reservation/batcher.ts,
 * storefront/cart/batch.ts).
 * ioredis auto-pipelining would wrap each such call in a pipeline of its own, and a pipeline costs more than
 * the call (it copies every defined command onto itself and adds a tick), so these bypass it.
 */
const SELF_BATCHED = new Set(['reserve', 'reserve-batch', 'cart-batch']);

/** Registers the scripts on a client (once per client). */
export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  const ignored = [...(redis.options.autoPipeliningIgnoredCommands ?? [])]; // a copy: the default array is shared
  for (const s of loadScripts()) {
    redis.defineCommand(s.command, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    if (SELF_BATCHED.has(s.name)) ignored.push(s.command);
  }
  redis.options.autoPipeliningIgnoredCommands = ignored;
  defined.add(redis);
}

/** Runs script `name` (file name without the key count) with its keys and args. */
export async function runScript<T = unknown>(redis: Redis, name: string, keys: string[], args: Array<string | number>): Promise<T> {
  defineScripts(redis);
  const script = byName().get(name);
  if (!script) throw new Error(`no Lua script named ${name}`);
  const fn = (redis as unknown as Record<string, (...a: Array<string | number>) => Promise<T>>)[script.command];
  if (script.numberOfKeys === undefined) return fn.call(redis, keys.length, ...keys, ...args);
  if (keys.length !== script.numberOfKeys) throw new Error(`${name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  return fn.call(redis, ...keys, ...args);
}
