import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../infra/config.js';
import { createContext, type Context } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { createRedis, masters } from '../infra/redis.js';

/**
 * One isolated world per test file: its own Redis key prefix (BullMQ queues included) and its own Postgres
 * schema, both removed by `cleanup`. REDIS_URL and DATABASE_URL come from vitest's global setup.
 */
export interface TestWorld {
  ctx: Context;
  config: Config;
  cleanup: () => Promise<void>;
}

export async function createTestWorld(overrides: Partial<Config> = {}): Promise<TestWorld> {
  const id = randomBytes(4).toString('hex');
  const config = loadConfig(
    { ...process.env, NODE_ENV: 'test', ADMIN_API_KEY: 'test-admin-key' },
    // Tests sign up hundreds of shoppers and carts from 127.0.0.1: the per-address limits are loosened here
    // (test/security/ sets them back where it tests them).
    { redisPrefix: `t${id}:`, dbSchema: `t_${id}`, sweepIntervalMs: 200, registerPerIpPerHour: 100_000, anonCartsPerIpPerHour: 100_000, ...overrides },
  );
  const ctx = createContext(config);
  await migrate(ctx.db, config.dbSchema);
  return {
    ctx,
    config,
    cleanup: async () => {
      await ctx.close();
      await dropWorld(config);
    },
  };
}

/** Removes a world's Redis keys and Postgres schema (with fresh connections; the context is closed). */
export async function dropWorld(config: Config): Promise<void> {
  const pg = (await import('pg')).default;
  const redis = createRedis(config, { name: 'fs-cleanup' });
  await redis.ping(); // a cluster client knows its masters once it has connected
  // SCAN sees one node's keys: on a cluster, scan every master and unlink key by key (keys differ in slot)
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${config.redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await Promise.all(keys.map((k) => node.unlink(k)));
    } while (cursor !== '0');
  }
  await redis.quit();
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${config.dbSchema}" CASCADE`);
  await client.end();
}
