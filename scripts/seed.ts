/**
 * `npm run seed [-- --count N]`: loads the deterministic catalog (100,000 products by default) with
 * inventory into DATABASE_URL / DB_SCHEMA (migrating first), then rebuilds the search index. Re-running it
 * restores the same products (upsert by SKU). Progress goes to stderr.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { ensureServices, type Services } from '../infra/services.js';
import { failed, onStopSignal, within } from '../infra/shutdown.js';
import type { Context } from '../infra/context.js';
import { bumpGeneration, createSearchBackend } from '../storefront/index.js';
import { progressBar } from './progress.js';
import { seedCatalog } from './seed-catalog.js';

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run seed [-- --count N]   (N from 0 to 10,000,000; default 100,000)\n`);
  process.exit(2);
}

let raw: string;
try {
  raw = parseArgs({ options: { count: { type: 'string', default: '100000' } } }).values.count!;
} catch (err) {
  usage((err as Error).message);
}
const count = Number(raw);
if (!/^\d+$/.test(raw) || count > 10_000_000) usage(`--count must be a whole number from 0 to 10,000,000, got "${raw}"`);

let services: Services | undefined;
let ctx: Context | undefined;
onStopSignal(async () => {
  await within(5_000, 'connections', async () => ctx?.close());
  await services?.stop();
});
try {
  services = await ensureServices({ dataDir: process.env.DATA_DIR ?? '.data', quiet: true, command: 'npm run seed' });
  const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
  ctx = createContext(config);
  await migrate(ctx.db, config.dbSchema);
  const started = Date.now();
  await seedCatalog(ctx.db, count, progressBar('products'));
  const backend = createSearchBackend(ctx);
  const indexed = await backend.reindex(progressBar(`search index (${backend.name})`));
  await backend.close();
  await bumpGeneration(ctx.redis, config.redisPrefix);
  process.stderr.write(`seeded ${count.toLocaleString('en-US')} products (${indexed.toLocaleString('en-US')} indexed) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  await ctx.close();
  await services.stop();
} catch (err) {
  failed('npm run seed', err);
}
