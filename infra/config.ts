import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterNode } from 'ioredis';
import { parseClusterNodes } from './redis.js';

/** Everything the engine reads from the environment, parsed once. */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  redisUrl: string | undefined;
  /** REDIS_CLUSTER_NODES=host:port,...: a Redis Cluster for every use (wins over redisUrl). */
  redisClusterNodes: ClusterNode[] | undefined;
  databaseUrl: string | undefined;
  /** Prefix for every Redis key and channel this process touches (tests give each file its own). */
  redisPrefix: string;
  /** Postgres schema to use (tests give each file its own); `public` by default. */
  dbSchema: string;
  adminApiKey: string;
  /** True when the admin key was generated at start because ADMIN_API_KEY was unset. */
  adminApiKeyGenerated: boolean;
  tokenSecret: string;
  /** Where the token secret came from: TOKEN_SECRET, or the data directory's file (`created`: made this run). */
  tokenSecretSource: 'env' | 'file' | 'created';
  userTokenTtlSeconds: number;
  /** Accounts one client address may create per hour (429 beyond). */
  registerPerIpPerHour: number;
  /** Anonymous carts one client address may create per hour (429 beyond). */
  anonCartsPerIpPerHour: number;
  logLevel: string;
  dataDir: string;
  sweepIntervalMs: number;
  maxBodyBytes: number;
  pspUrl: string | undefined;
  pspPort: number;
  /** How long the payment client waits for the PSP before the outcome counts as unknown. */
  pspTimeoutMs: number;
  elasticsearchUrl: string | undefined;
  /** Cache search results in process, per index generation (SEARCH_CACHE=off to disable). */
  searchCache: boolean;
  /** How often the outbox worker drains into the search index. */
  searchSyncIntervalMs: number;
  workerConcurrency: number;
  overAdmissionFactor: number;
  maxConnectionsPerIp: number;
  disconnectGraceSeconds: number;
  /**
   * Settlement retries: a checkout keeps retrying through an outage (PSP or Postgres) with capped exponential
   * backoff (base `settleBackoffMs`, at most `settleBackoffMaxMs` between attempts) until `settleBudgetMs`
   * after its checkout (at least 10 minutes in production) or `settleAttempts` attempts, whichever comes
   * first; only then is an unknown payment decided. `settleLockMs` is the job lock: a killed worker's jobs
   * run again within about 1.6 times it.
   */
  settleAttempts: number;
  settleBackoffMs: number;
  settleBackoffMaxMs: number;
  settleBudgetMs: number;
  settleLockMs: number;
  /** How often the repeating reconciliation job checks every active sale. */
  reconcileIntervalMs: number;
  /** Prefix of every PSP idempotency key (DEPLOYMENT_ID); unset: the id migration 006 made in this schema. */
  deploymentId: string | undefined;
  /** Bearer token for GET /metrics; the admin key serves when unset. */
  metricsToken: string | undefined;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

/**
 * Outside production, with TOKEN_SECRET unset: a random secret made once and kept in the data directory
 * (`token-secret`, mode 0600), so tokens survive a restart and every process sharing the directory agrees.
 * There is no default secret in the source: one printed there would let anyone forge tokens.
 */
export function devTokenSecret(dataDir: string): { value: string; source: 'file' | 'created' } {
  const file = join(dataDir, 'token-secret');
  const read = () => {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length < 32) throw new Error(`${file} holds no usable secret (32+ characters); delete it to make a new one`);
    return value;
  };
  try {
    return { value: read(), source: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  // Written whole to a private temporary file, then linked into place: a process starting at the same time
  // sees either no file or the whole secret, and exactly one link wins.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // whatever the umask
  let created = true;
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false; // another process made it first
  } finally {
    unlinkSync(tmp);
  }
  return { value: read(), source: created ? 'created' : 'file' };
}

/** Production settles through a PSP or Postgres outage of at least this long before failing a checkout. */
export const MIN_PRODUCTION_SETTLE_BUDGET_MS = 10 * 60_000;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const config = readConfig(env, overrides);
  if (config.env === 'production' && config.settleBudgetMs < MIN_PRODUCTION_SETTLE_BUDGET_MS) {
    throw new Error(`SETTLE_BUDGET_MS must be at least ${MIN_PRODUCTION_SETTLE_BUDGET_MS} in production (settlement must ride out a 10-minute outage)`);
  }
  return config;
}

function readConfig(env: NodeJS.ProcessEnv, overrides: Partial<Config>): Config {
  const mode = (env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development') as Config['env'];
  const adminFromEnv = env.ADMIN_API_KEY;
  if (!adminFromEnv && mode === 'production') throw new Error('ADMIN_API_KEY must be set in production');
  if (!env.TOKEN_SECRET && mode === 'production') throw new Error('TOKEN_SECRET must be set in production');
  const dataDir = env.DATA_DIR ?? '.data';
  const secret = env.TOKEN_SECRET ? { value: env.TOKEN_SECRET, source: 'env' as const } : devTokenSecret(dataDir);
  return {
    env: mode,
    port: num(env, 'PORT', 3000),
    host: env.HOST ?? '0.0.0.0',
    redisUrl: env.REDIS_URL || undefined,
    redisClusterNodes: env.REDIS_CLUSTER_NODES ? parseClusterNodes(env.REDIS_CLUSTER_NODES) : undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    redisPrefix: env.REDIS_PREFIX ?? 'fs:',
    dbSchema: env.DB_SCHEMA ?? 'public',
    adminApiKey: adminFromEnv || randomBytes(18).toString('base64url'),
    adminApiKeyGenerated: !adminFromEnv,
    tokenSecret: secret.value,
    tokenSecretSource: secret.source,
    userTokenTtlSeconds: num(env, 'USER_TOKEN_TTL_SECONDS', 7 * 24 * 3600),
    registerPerIpPerHour: num(env, 'REGISTER_PER_IP_PER_HOUR', 30),
    anonCartsPerIpPerHour: num(env, 'ANON_CARTS_PER_IP_PER_HOUR', 300),
    logLevel: env.LOG_LEVEL ?? (mode === 'test' ? 'warn' : 'info'),
    dataDir,
    sweepIntervalMs: num(env, 'SWEEP_INTERVAL_MS', 1000),
    maxBodyBytes: num(env, 'MAX_BODY_BYTES', 64 * 1024),
    pspUrl: env.PSP_URL || undefined,
    pspPort: num(env, 'PSP_PORT', 4010),
    pspTimeoutMs: num(env, 'PSP_TIMEOUT_MS', 5000),
    elasticsearchUrl: env.ELASTICSEARCH_URL || undefined,
    searchCache: env.SEARCH_CACHE !== 'off',
    searchSyncIntervalMs: num(env, 'SEARCH_SYNC_INTERVAL_MS', 200),
    workerConcurrency: num(env, 'WORKER_CONCURRENCY', 50),
    overAdmissionFactor: num(env, 'OVER_ADMISSION_FACTOR', 1.5),
    maxConnectionsPerIp: num(env, 'MAX_CONNECTIONS_PER_IP', 50),
    disconnectGraceSeconds: num(env, 'DISCONNECT_GRACE_SECONDS', 60),
    settleAttempts: num(env, 'SETTLE_ATTEMPTS', 1_000),
    settleBackoffMs: num(env, 'SETTLE_BACKOFF_MS', 500),
    settleBackoffMaxMs: num(env, 'SETTLE_BACKOFF_MAX_MS', 15_000),
    settleBudgetMs: num(env, 'SETTLE_BUDGET_MS', MIN_PRODUCTION_SETTLE_BUDGET_MS),
    settleLockMs: num(env, 'SETTLE_LOCK_MS', 5_000),
    reconcileIntervalMs: num(env, 'RECONCILE_INTERVAL_MS', 60_000),
    deploymentId: env.DEPLOYMENT_ID || undefined,
    metricsToken: env.METRICS_TOKEN || undefined,
    ...overrides,
  };
}
