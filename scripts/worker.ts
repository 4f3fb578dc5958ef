/**
 * `npm run worker`: the settlement worker alone (checkout saga and reconciliation), for running more
 * workers than gateways. Needs REDIS_URL and DATABASE_URL (the ones `npm start` uses), PSP_URL unless the
 * simulator runs on PSP_PORT, and WORKER_CONCURRENCY (jobs at once, default 50). REDIS_PREFIX and DB_SCHEMA
 * must match the engine's. SIGINT/SIGTERM finish the jobs in hand, then exit.
 */
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { createSettlementServices, startSettlement } from '../settlement/index.js';

const config = loadConfig();
if (!config.redisUrl || !config.databaseUrl) {
  console.error('npm run worker needs REDIS_URL and DATABASE_URL (the Redis and Postgres the engine uses)');
  process.exit(1);
}
const ctx = createContext(config);
await migrate(ctx.db, config.dbSchema);
const stop = await startSettlement(createSettlementServices(ctx));
ctx.log.info({ pid: process.pid, concurrency: config.workerConcurrency }, 'settlement worker started');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  ctx.log.info({ signal }, 'settlement worker stopping');
  await stop();
  await ctx.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
