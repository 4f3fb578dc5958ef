import { randomBytes } from 'node:crypto';
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
  userTokenTtlSeconds: number;
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
  /** Settlement: BullMQ attempts per checkout job, base of its exponential backoff, and its lock time. */
  settleAttempts: number;
  settleBackoffMs: number;
  settleLockMs: number;
  /** How often the repeating reconciliation job checks every active sale. */
  reconcileIntervalMs: number;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const mode = (env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development') as Config['env'];
  const adminFromEnv = env.ADMIN_API_KEY;
  if (!adminFromEnv && mode === 'production') throw new Error('ADMIN_API_KEY must be set in production');
  const tokenSecret = env.TOKEN_SECRET ?? (mode === 'production' ? undefined : 'dev-only-token-secret-change-me');
  if (!tokenSecret) throw new Error('TOKEN_SECRET must be set in production');
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
    tokenSecret,
    userTokenTtlSeconds: num(env, 'USER_TOKEN_TTL_SECONDS', 7 * 24 * 3600),
    logLevel: env.LOG_LEVEL ?? (mode === 'test' ? 'warn' : 'info'),
    dataDir: env.DATA_DIR ?? '.data',
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
    settleAttempts: num(env, 'SETTLE_ATTEMPTS', 8),
    settleBackoffMs: num(env, 'SETTLE_BACKOFF_MS', 500),
    settleLockMs: num(env, 'SETTLE_LOCK_MS', 30_000),
    reconcileIntervalMs: num(env, 'RECONCILE_INTERVAL_MS', 60_000),
    metricsToken: env.METRICS_TOKEN || undefined,
    ...overrides,
  };
}
