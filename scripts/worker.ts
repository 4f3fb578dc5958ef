/**
 * `npm run worker`: the settlement worker alone (checkout saga and reconciliation), for running more
 * workers than gateways. Uses REDIS_URL and DATABASE_URL when they answer, otherwise the Redis and Postgres
 * that `npm start` self-started under DATA_DIR (attaching to them through .data/services.json, or starting
 * them when none run). The PSP: PSP_URL, else the simulator recorded there by `npm start` / `npm run psp`,
 * else PSP_PORT. WORKER_CONCURRENCY (jobs at once, default 50). REDIS_PREFIX and DB_SCHEMA must match the
 * engine's. SIGINT/SIGTERM finish the jobs in hand, then exit.
 */
import { loadConfig } from '../infra/config.js';
import { createContext, type Context } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { ensureServices, recordedPsp, type Services } from '../infra/services.js';
import { failed, onStopSignal, within } from '../infra/shutdown.js';
import { createSettlementServices, startSettlement } from '../settlement/index.js';

const dataDir = process.env.DATA_DIR ?? '.data';
let services: Services | undefined;
let ctx: Context | undefined;
let stop: (() => Promise<void>) | undefined;
try {
  services = await ensureServices({ dataDir, command: 'npm run worker' });
  const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
  config.pspUrl ??= recordedPsp(dataDir);
  ctx = createContext(config);
  await migrate(ctx.db, config.dbSchema);
  stop = await startSettlement(createSettlementServices(ctx));
  ctx.log.info({ pid: process.pid, concurrency: config.workerConcurrency, psp: config.pspUrl ?? `port ${config.pspPort}` }, 'settlement worker started');
} catch (err) {
  failed('npm run worker', err);
}

onStopSignal(async (signal) => {
  ctx!.log.info({ signal }, 'settlement worker stopping');
  const log = (m: string) => ctx!.log.warn(m);
  await within(30_000, 'the settlement worker', () => stop!(), log);
  await within(5_000, 'connections', () => ctx!.close(), log);
  await within(30_000, 'Redis and Postgres', () => services!.stop(), log);
}, 90_000);
