/**
 * The server for `bench/storefront-search.ts`, in its own process so the load generator does not share its
 * event loop: the real gateway (every part's routes, background work off) plus the catalog part's outbox
 * worker, so stock changes made during the run reach the index as in production. SEARCH_CACHE=off turns
 * the result cache off. Prints {"port":N} on stdout once listening; SIGTERM stops it.
 */
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { startEngine } from '../gateway/server.js';
import { catalogPart } from '../storefront/catalog-part.js';

const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'error' });
const ctx = createContext(config);
const engine = await startEngine(ctx, { host: '127.0.0.1', port: 0, background: false });
const stopSync = await catalogPart(ctx).start!();
console.log(JSON.stringify({ port: engine.port }));
process.on('SIGTERM', async () => {
  await engine.stop();
  await stopSync();
  await ctx.close();
  process.exit(0);
});
