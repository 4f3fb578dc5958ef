import { ensureServices } from '../infra/services.js';

/**
 * Makes sure Redis and Postgres are there before any test file runs: REDIS_URL / DATABASE_URL when they
 * answer, else the self-started ones of DATA_DIR (.data/), shared with a running `npm start` through
 * .data/services.json (each test file works in its own key prefix and schema), or started here and stopped
 * after when no other command uses them.
 */
export default async function setup() {
  const services = await ensureServices({ dataDir: process.env.DATA_DIR ?? '.data', quiet: true, command: 'npm test' });
  process.env.REDIS_URL = services.redisUrl;
  process.env.DATABASE_URL = services.databaseUrl;
  return async () => {
    await services.stop();
  };
}
