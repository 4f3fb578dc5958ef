import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from './redis.js';

/**
 * The one Lua loader (BullMQ's layout). Each part keeps its scripts in `<part>/lua/<name>-<numberOfKeys>.lua`
 * (or `<name>-n.lua` for a varying number of keys) and registers that folder once with `registerLua`.
 * A line `--- @include "includes/x"` is replaced by `includes/x.lua`, looked up in the part's folder and
 * in infra/lua/ (shared snippets); an included file may include others, and each file goes in once.
 *
 * Each script is registered with ioredis `defineCommand` as `<name>:<hash>`, the hash being that of the
 * script's full text after includes: two versions of the engine that share one Redis never call each
 * other's scripts, and a changed script gets a new name.
 *
 * Part code never calls a script by name: each part wraps its scripts in typed functions (its scripts.ts)
 * that build the key list in the header's order and read the reply, and call `runLua` with the `Lua`
 * object of the script.
 */
export interface Lua {
  /** File name without the key count, e.g. `reserve-batch`. */
  name: string;
  /** The file, relative to the project root (for messages). */
  file: string;
  /** The name the command is defined under: `<name>:<hash of the text>`. */
  command: string;
  /** undefined: varies per call (`<name>-n.lua`); runLua passes the count of keys it is given. */
  numberOfKeys: number | undefined;
  text: string;
  /** Callers already send one call per event-loop turn for many requests: skip ioredis auto-pipelining. */
  selfBatched: boolean;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const sharedDir = fileURLToPath(new URL('./lua/', import.meta.url));
const shown = (path: string) => relative(root, path);

/** Where `includes/x` resolves: the part's folder first, then the shared one; both at once is an error. */
function findInclude(name: string, dir: string, from: string): string {
  const found = [...new Set([dir, sharedDir])].map((d) => `${d}${name}.lua`).filter((p) => existsSync(p));
  if (found.length === 0) throw new Error(`${shown(from)}: include "${name}" not found (looked in ${shown(dir)} and ${shown(sharedDir)})`);
  if (found.length > 1) throw new Error(`${shown(from)}: include "${name}" is in both ${found.map(shown).join(' and ')}`);
  return found[0];
}

/** Inlines includes, also those of an included file; each file once per script (later mentions are dropped). */
function inline(file: string, dir: string, seen: Set<string>): string {
  return readFileSync(file, 'utf8').replace(/^--- @include "([^"]+)"\s*$/gm, (_, name: string) => {
    const path = findInclude(name, dir, file);
    if (seen.has(path)) return '';
    seen.add(path);
    return inline(path, dir, seen);
  });
}

/** Reads every script of one folder. */
export function loadLuaDir(dir: string, selfBatched: readonly string[] = []): Lua[] {
  const scripts = readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .sort()
    .map((f): Lua => {
      const m = /^(.+)-(\d+|n)\.lua$/.exec(f);
      if (!m) throw new Error(`${shown(dir + f)}: a Lua script is named <name>-<numberOfKeys>.lua or <name>-n.lua`);
      const text = inline(dir + f, dir, new Set());
      const hash = createHash('sha1').update(text).digest('hex').slice(0, 12);
      return { name: m[1], file: shown(dir + f), command: `${m[1]}:${hash}`, numberOfKeys: m[2] === 'n' ? undefined : Number(m[2]), text, selfBatched: selfBatched.includes(m[1]) };
    });
  for (const name of selfBatched) {
    if (!scripts.some((s) => s.name === name)) throw new Error(`${shown(dir)}: no script ${name} to mark self-batched`);
  }
  return scripts;
}

const registered = new Map<string, Lua>();

/**
 * Registers a part's scripts (call once, at module level, in the part's scripts.ts) and answers them by
 * name. A script name already registered from another file is an error that names both files.
 */
export function registerLua(dir: URL, opts: { selfBatched?: readonly string[] } = {}): Record<string, Lua> {
  const out: Record<string, Lua> = {};
  for (const s of loadLuaDir(fileURLToPath(dir), opts.selfBatched)) {
    const other = registered.get(s.name);
    if (other && other.file !== s.file) throw new Error(`Lua script ${s.name} is defined twice: ${other.file} and ${s.file}`);
    registered.set(s.name, s);
    out[s.name] = s;
  }
  return out;
}

/** A registered script by name: for tests that watch a script's calls (they wrap the client's command). */
export const registeredLua = (name: string): Lua | undefined => registered.get(name);

/** The registered script of that name, or an error at start-up (for a part's scripts.ts). */
export function luaScript(scripts: Record<string, Lua>, name: string): Lua {
  const s = scripts[name];
  if (!s) throw new Error(`no Lua script ${name}; have ${Object.keys(scripts).join(', ')}`);
  return s;
}

const definedOn = new WeakMap<Redis, Set<string>>();

/**
 * Defines every registered script on a client. Called when the client is created, before its first command:
 * ioredis copies a client's commands into each auto-pipeline when the pipeline opens, so a script defined
 * later is missing from a pipeline already open. runLua also calls it, for clients made elsewhere and for
 * parts imported after the client was made.
 */
export function defineLua(redis: Redis): void {
  let done = definedOn.get(redis);
  if (done && done.size === registered.size) return;
  if (!done) definedOn.set(redis, (done = new Set()));
  const ignored = [...(redis.options.autoPipeliningIgnoredCommands ?? [])]; // a copy: the default array is shared
  for (const s of registered.values()) {
    if (done.has(s.command)) continue;
    redis.defineCommand(s.command, { numberOfKeys: s.numberOfKeys, lua: s.text });
    if (s.selfBatched) ignored.push(s.command);
    done.add(s.command);
  }
  redis.options.autoPipeliningIgnoredCommands = ignored;
}

type Command = (...args: Array<string | number>) => Promise<unknown>;

/** Runs one script with its keys (in its header's order) and args. Only a part's typed script functions call this. */
export function runLua<T>(redis: Redis, script: Lua, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
  defineLua(redis);
  const fn = (redis as unknown as Record<string, Command>)[script.command];
  if (script.numberOfKeys === undefined) return fn.call(redis, keys.length, ...keys, ...args) as Promise<T>;
  if (keys.length !== script.numberOfKeys) throw new Error(`${script.file} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  return fn.call(redis, ...keys, ...args) as Promise<T>;
}
