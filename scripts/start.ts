/**
 * `npm start`: the whole engine in one process. Uses REDIS_URL / DATABASE_URL when they answer, otherwise
 * the Redis and Postgres self-started under DATA_DIR (.data/), shared with the other commands through
 * .data/services.json (infra/services.ts). Applies migrations, starts the PSP simulator (unless PSP_URL is
 * set; on a free port when its default 4010 is taken), the gateway on PORT, and the background workers.
 * Ctrl-C stops everything it started; a start-up failure is one line on stderr and exit code 1.
 *
 * Flags: --no-background (gateway only: no workers, sweeper or tickers), --no-psp.
 */
import { loadConfig } from '../infra/config.js';
import { createContext, type Context } from '../infra/context.js';
import { createLogger } from '../infra/logger.js';
import { migrate } from '../infra/migrate.js';
import { redactUrl } from '../infra/redact.js';
import { ensureServices, recordedPsp, recordProcess, type Services } from '../infra/services.js';
import { failed, onStopSignal, within } from '../infra/shutdown.js';
import { startEngine, type Engine } from '../gateway/server.js';
import { pspOptionsFromEnv, startPspServer, type PspServer } from '../settlement/index.js';

const args = new Set(process.argv.slice(2));
const dataDir = process.env.DATA_DIR ?? '.data';
let services: Services | undefined;
let psp: PspServer | undefined;
let ctx: Context | undefined;
let engine: Engine | undefined;

/** The bundled simulator on PSP_PORT (4010); when that default is taken, on any free port. */
async function startPsp(config: ReturnType<typeof loadConfig>, log: ReturnType<typeof createLogger>): Promise<PspServer> {
  const opts = { ...pspOptionsFromEnv(process.env), port: config.pspPort, dataDir: `${config.dataDir}/psp`, log: log.child({ part: 'psp' }) };
  try {
    return await startPspServer(opts);
  } catch (err) {
    if (process.env.PSP_PORT || !/port is in use/.test((err as Error).message)) throw err;
    log.info(`port ${config.pspPort} is taken; the PSP simulator takes a free port`);
    return startPspServer({ ...opts, port: 0 });
  }
}

try {
  services = await ensureServices({ dataDir, command: 'npm start' });
  const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
  const log = createLogger(config.logLevel);
  const redact = redactUrl;
  const redis = process.env.REDIS_CLUSTER_NODES ? `cluster ${process.env.REDIS_CLUSTER_NODES}` : redact(services.redisUrl);
  log.info(
    { redis, redisSource: services.redisSource, postgres: redact(services.databaseUrl), postgresSource: services.postgresSource },
    `using Redis ${redis} (${services.redisSource}) and Postgres ${redact(services.databaseUrl)} (${services.postgresSource})`,
  );

  // The bundled PSP simulator, unless a real PSP (PSP_URL) is configured or --no-psp is given; the engine
  // and `npm run worker` use the URL it got (recorded in .data/services.json).
  if (!config.pspUrl && !args.has('--no-psp')) {
    psp = await startPsp(config, log);
    config.pspUrl = psp.url;
    await recordProcess(dataDir, 'psp', { url: psp.url });
    log.info({ url: psp.url }, `PSP simulator on ${psp.url}`);
  } else if (!config.pspUrl) {
    config.pspUrl = recordedPsp(dataDir);
  }

  ctx = createContext(config);
  const applied = await migrate(ctx.db, config.dbSchema);
  if (applied.length) ctx.log.info({ applied }, 'migrations applied');
  if (config.tokenSecretSource !== 'env') {
    ctx.log.warn(
      `TOKEN_SECRET is unset; tokens are signed with a random secret ${config.tokenSecretSource === 'created' ? 'made now and kept' : 'kept'} in ${config.dataDir}/token-secret (set TOKEN_SECRET in production, where it is required)`,
    );
  }
  if (config.adminApiKeyGenerated) ctx.log.warn(`ADMIN_API_KEY is unset; generated one for this run: ${config.adminApiKey}`);

  engine = await startEngine(ctx, { background: !args.has('--no-background') });
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${engine.port}`;
  await recordProcess(dataDir, 'engine', { url, ...(config.adminApiKeyGenerated ? { adminApiKey: config.adminApiKey } : {}) });
  ctx.log.info({ port: engine.port, pid: process.pid, psp: config.pspUrl }, `listening on http://${config.host}:${engine.port}`);
} catch (err) {
  failed('npm start', err);
}

onStopSignal(async (signal) => {
  ctx!.log.info({ signal }, 'stopping');
  const log = (m: string) => ctx!.log.warn(m);
  // Each step has a time limit: with Redis or Postgres dead, closing their clients can hang.
  await within(15_000, 'the engine', () => engine!.stop(), log);
  if (psp) await within(5_000, 'the PSP simulator', () => psp!.close(), log);
  await within(5_000, 'the record', async () => {
    await recordProcess(dataDir, 'engine', undefined);
    if (psp) await recordProcess(dataDir, 'psp', undefined);
  }, log);
  await within(5_000, 'connections', () => ctx!.close(), log);
  await within(30_000, 'Redis and Postgres', () => services!.stop(), log);
}, 60_000);
