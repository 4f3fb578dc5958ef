/**
 * `npm run search:reindex`: rebuilds the search index (Postgres `product_search`, or the Elasticsearch index
 * when ELASTICSEARCH_URL is set) from products + inventory, then swaps it in. Searches keep answering from
 * the old index meanwhile; changes made during the rebuild stay in the outbox and are applied after.
 */
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { ensureServices, type Services } from '../infra/services.js';
import { failed, onStopSignal, within } from '../infra/shutdown.js';
import type { Context } from '../infra/context.js';
import { bumpGeneration, createSearchBackend } from '../storefront/index.js';
import { progressBar } from './progress.js';

let services: Services | undefined;
let ctx: Context | undefined;
onStopSignal(async () => {
  await within(5_000, 'connections', async () => ctx?.close());
  await services?.stop();
});
try {
  services = await ensureServices({ dataDir: process.env.DATA_DIR ?? '.data', quiet: true, command: 'npm run search:reindex' });
  const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
  ctx = createContext(config);
  await migrate(ctx.db, config.dbSchema);
  const backend = createSearchBackend(ctx);
  const started = Date.now();
  const indexed = await backend.reindex(progressBar(`search index (${backend.name})`));
  await backend.close();
  await bumpGeneration(ctx.redis, config.redisPrefix);
  process.stderr.write(`indexed ${indexed.toLocaleString('en-US')} products in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  await ctx.close();
  await services.stop();
} catch (err) {
  failed('npm run search:reindex', err);
}
