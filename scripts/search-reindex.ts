/**
 * `npm run search:reindex`: rebuilds the search index (Postgres `product_search`, or the Elasticsearch index
 * when ELASTICSEARCH_URL is set) from products + inventory, then swaps it in. Searches keep answering from
 * the old index meanwhile; changes made during the rebuild stay in the outbox and are applied after.
 */
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { ensureServices } from '../infra/services.js';
import { bumpGeneration, createSearchBackend } from '../storefront/index.js';
import { progressBar } from './progress.js';

const services = await ensureServices({ dataDir: process.env.DATA_DIR ?? '.data', quiet: true });
const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
const ctx = createContext(config);
try {
  await migrate(ctx.db, config.dbSchema);
  const backend = createSearchBackend(ctx);
  const started = Date.now();
  const indexed = await backend.reindex(progressBar(`search index (${backend.name})`));
  await backend.close();
  await bumpGeneration(ctx.redis, config.redisPrefix);
  process.stderr.write(`indexed ${indexed.toLocaleString('en-US')} products in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
} finally {
  await ctx.close();
  await services.stop();
}
