import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ensureServices } from './services.js';

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
});
