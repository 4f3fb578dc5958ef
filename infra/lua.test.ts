import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defineLua, loadLuaDir, registerLua, runLua } from './lua.js';

const dirs: string[] = [];
/** A folder of Lua files: { 'name-1.lua': text, 'includes/x.lua': text }. */
function luaDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fs-lua-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'includes'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return `${dir}/`;
}
const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await redis.quit();
});

describe('the Lua loader', () => {
  it('inlines includes, nested ones too, each file once per script', () => {
    const [s] = loadLuaDir(luaDir({
      'top-1.lua': '--- @include "includes/a"\n--- @include "includes/b"\nreturn a() + b()\n',
      'includes/a.lua': '--- @include "includes/c"\nlocal function a() return c() end\n',
      'includes/b.lua': '--- @include "includes/c"\nlocal function b() return c() end\n',
      'includes/c.lua': 'local function c() return 1 end\n',
    }));
    expect(s).toMatchObject({ name: 'top', numberOfKeys: 1 });
    expect(s.text).not.toContain('@include');
    expect(s.text.split('local function c(').length).toBe(2);
    expect(s.text.indexOf('function c(')).toBeLessThan(s.text.indexOf('function a('));
  });

  it('finds shared includes in infra/lua/includes', () => {
    const [s] = loadLuaDir(luaDir({ 'now-0.lua': '--- @include "includes/now-ms"\nreturn nowMs()\n' }));
    expect(s.text).toContain("redis.call('TIME')");
  });

  it('names the command after the script and a hash of its full text', () => {
    const a = loadLuaDir(luaDir({ 'x-1.lua': 'return 1\n' }))[0];
    const same = loadLuaDir(luaDir({ 'x-1.lua': 'return 1\n' }))[0];
    const changed = loadLuaDir(luaDir({ 'x-1.lua': 'return 2\n' }))[0];
    const viaInclude = loadLuaDir(luaDir({ 'x-1.lua': '--- @include "includes/v"\n', 'includes/v.lua': 'return 3\n' }))[0];
    expect(a.command).toMatch(/^x:[0-9a-f]{12}$/);
    expect(same.command).toBe(a.command);
    expect(changed.command).not.toBe(a.command);
    expect(viaInclude.command).not.toBe(a.command);
  });

  it('reports a missing include, an include found twice, a bad file name and a duplicate script with the file names', () => {
    expect(() => loadLuaDir(luaDir({ 'm-1.lua': '--- @include "includes/nope"\n' }))).toThrow(/m-1\.lua: include "includes\/nope" not found/);
    expect(() => loadLuaDir(luaDir({ 'm-1.lua': '--- @include "includes/x"\n', 'includes/x.lua': '--- @include "includes/gone"\n' }))).toThrow(
      /includes\/x\.lua: include "includes\/gone" not found/,
    );
    expect(() => loadLuaDir(luaDir({ 'd-0.lua': '--- @include "includes/now-ms"\n', 'includes/now-ms.lua': '' }))).toThrow(
      /d-0\.lua: include "includes\/now-ms" is in both .*includes\/now-ms\.lua and infra\/lua\/includes\/now-ms\.lua/,
    );
    expect(() => loadLuaDir(luaDir({ 'nokeys.lua': 'return 1\n' }))).toThrow(/nokeys\.lua: a Lua script is named/);
    const first = luaDir({ 'lua-test-twice-0.lua': 'return 1\n' });
    const second = luaDir({ 'lua-test-twice-0.lua': 'return 2\n' });
    registerLua(pathToFileURL(first));
    expect(() => registerLua(pathToFileURL(second))).toThrow(/lua-test-twice is defined twice: .*lua-test-twice-0\.lua and .*lua-test-twice-0\.lua/);
  });

  it('runs a script, and sends self-batched ones past auto-pipelining on that client only', async () => {
    const scripts = registerLua(pathToFileURL(luaDir({ 'lua-test-echo-n.lua': 'return {#KEYS, ARGV[1]}\n', 'lua-test-solo-1.lua': 'return KEYS[1]\n' })), {
      selfBatched: ['lua-test-solo'],
    });
    expect(await runLua(redis, scripts['lua-test-echo'], ['{t}:a', '{t}:b'], ['hi'])).toEqual([2, 'hi']);
    expect(await runLua(redis, scripts['lua-test-solo'], ['{t}:k'], [])).toBe('{t}:k');
    expect(() => runLua(redis, scripts['lua-test-solo'], [], [])).toThrow(/lua-test-solo-1\.lua takes 1 keys, got 0/);
    expect(redis.options.autoPipeliningIgnoredCommands).toContain(scripts['lua-test-solo'].command);
    expect(redis.options.autoPipeliningIgnoredCommands).not.toContain(scripts['lua-test-echo'].command);
    const other = new Redis({ lazyConnect: true });
    expect(other.options.autoPipeliningIgnoredCommands ?? []).toEqual([]);
    defineLua(other);
    expect(other.options.autoPipeliningIgnoredCommands).toContain(scripts['lua-test-solo'].command);
    other.disconnect();
  });
});
