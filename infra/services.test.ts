import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ensureServices } from './services.js';
import { pidAlive, type ServicesRecord } from './services-record.js';

const record = (dir: string): ServicesRecord | undefined => (existsSync(`${dir}/services.json`) ? JSON.parse(readFileSync(`${dir}/services.json`, 'utf8')) : undefined);
/** A PID that no process has any more. */
const deadPid = () => spawnSync('true').pid!;
/** Only Redis self-started: Postgres is the one the tests use (keeps these tests quick). */
const redisOnly = () => ({ DATABASE_URL: process.env.DATABASE_URL });

describe('self-started services', () => {
  it('starts its own redis-server and embedded Postgres when REDIS_URL and DATABASE_URL are unset, and stops them', async () => {
    const dataDir = `.data/test-services-${process.pid}`;
    const s = await ensureServices({ dataDir, quiet: true, env: {} });
    try {
      expect(s.redisSource).toBe('started');
      expect(s.postgresSource).toBe('started');
      const r = new Redis(s.redisUrl);
      expect(await r.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      await r.quit();
      const c = new pg.Client(s.databaseUrl);
      await c.connect();
      expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await c.end();
      const rec = record(dataDir)!;
      expect(rec.users.map((u) => u.pid)).toEqual([process.pid]);
      await s.stop();
      expect(pidAlive(rec.redis!.pid) || pidAlive(rec.postgres!.pid)).toBe(false);
      expect(record(dataDir)).toBeUndefined();
    } finally {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('uses REDIS_URL and DATABASE_URL as given when they answer', async () => {
    const s = await ensureServices({ dataDir: '.data/unused', quiet: true });
    expect(s.redisSource).toBe('external');
    expect(s.postgresSource).toBe('external');
    await s.stop();
  });

  it('reference counted: a second user attaches to the recorded Redis; the first to leave leaves it running, the last stops it', async () => {
    const dataDir = `.data/test-services-rc-${process.pid}`;
    try {
      const first = await ensureServices({ dataDir, quiet: true, env: redisOnly(), command: 'first' });
      const second = await ensureServices({ dataDir, quiet: true, env: redisOnly(), command: 'second' });
      expect([first.redisSource, second.redisSource]).toEqual(['started', 'shared']);
      expect(second.redisUrl).toBe(first.redisUrl);
      const pid = record(dataDir)!.redis!.pid;
      expect(record(dataDir)!.users.map((u) => u.command)).toEqual(['first', 'second']);
      await first.stop();
      expect(pidAlive(pid)).toBe(true);
      expect(record(dataDir)!.users.map((u) => u.command)).toEqual(['second']);
      await second.stop();
      expect(pidAlive(pid)).toBe(false);
      expect(record(dataDir)).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('two commands starting at once start one Redis between them', async () => {
    const dataDir = `.data/test-services-once-${process.pid}`;
    try {
      const both = await Promise.all([1, 2].map((n) => ensureServices({ dataDir, quiet: true, env: redisOnly(), command: `c${n}` })));
      expect(both[0]!.redisUrl).toBe(both[1]!.redisUrl);
      expect(both.map((s) => s.redisSource).sort()).toEqual(['shared', 'started']);
      for (const s of both) await s.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('stale records are cleaned: a dead user is dropped, a dead Redis is started anew, a lock of a dead process is taken over', async () => {
    const dataDir = `.data/test-services-stale-${process.pid}`;
    mkdirSync(dataDir, { recursive: true });
    const dead = deadPid();
    const stale: ServicesRecord = {
      redis: { url: 'redis://127.0.0.1:1', pid: dead, port: 1, dir: dataDir, startedBy: { pid: dead, command: 'killed' }, startedAt: new Date().toISOString() },
      users: [{ pid: dead, id: 'x', command: 'killed', since: new Date().toISOString() }],
    };
    writeFileSync(`${dataDir}/services.json`, JSON.stringify(stale));
    writeFileSync(`${dataDir}/services.lock`, String(dead));
    try {
      const s = await ensureServices({ dataDir, quiet: true, env: redisOnly() });
      expect(s.redisSource).toBe('started');
      expect(s.redisUrl).not.toBe('redis://127.0.0.1:1');
      const rec = record(dataDir)!;
      expect(rec.users.map((u) => u.pid)).toEqual([process.pid]);
      expect(rec.redis!.pid).not.toBe(dead);
      await s.stop();
      expect(existsSync(`${dataDir}/services.lock`)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
