/**
 * `npm start`: the whole engine in one process. Uses REDIS_URL / DATABASE_URL when they answer, otherwise
 * starts Redis and Postgres under .data/. Applies migrations, starts the PSP simulator (unless PSP_URL is
 * set), the gateway on PORT, and the background workers. Ctrl-C stops everything it started.
 *
 * Flags: --no-background (gateway only: no workers, sweeper or tickers), --no-psp.
 */
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { ensureServices } from '../infra/services.js';
import { startEngine } from '../gateway/server.js';
import { pspOptionsFromEnv, startPspServer, type PspServer } from '../settlement/index.js';

const args = new Set(process.argv.slice(2));
const services = await ensureServices({ dataDir: process.env.DATA_DIR ?? '.data' });
const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
const ctx = createContext(config);
const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
ctx.log.info(
  { redis: redact(services.redisUrl), redisSource: services.redisSource, postgres: redact(services.databaseUrl), postgresSource: services.postgresSource },
  `using Redis ${redact(services.redisUrl)} (${services.redisSource}) and Postgres ${redact(services.databaseUrl)} (${services.postgresSource})`,
);
const applied = await migrate(ctx.db, config.dbSchema);
if (applied.length) ctx.log.info({ applied }, 'migrations applied');
if (config.adminApiKeyGenerated) ctx.log.warn(`ADMIN_API_KEY is unset; generated one for this run: ${config.adminApiKey}`);

// The bundled PSP simulator, unless a real PSP (PSP_URL) is configured or --no-psp is given.
let psp: PspServer | undefined;
if (!config.pspUrl && !args.has('--no-psp')) {
  psp = await startPspServer({ ...pspOptionsFromEnv(process.env), port: config.pspPort, dataDir: `${config.dataDir}/psp`, log: ctx.log.child({ part: 'psp' }) });
  ctx.log.info({ url: psp.url }, `PSP simulator on ${psp.url}`);
}

const engine = await startEngine(ctx, { background: !args.has('--no-background') });
ctx.log.info({ port: engine.port, pid: process.pid }, `listening on http://${config.host}:${engine.port}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  ctx.log.info({ signal }, 'stopping');
  await engine.stop();
  await psp?.close();
  await ctx.close();
  await services.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
