import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Config } from '../infra/config.js';
import type { Context } from '../infra/context.js';
import { createSale, openSale, reserveKeys, reserveScript, saleKeys } from '../reservation/index.js';
import { createProduct } from '../storefront/index.js';

/** Helpers for the settlement tests and benchmark (not a test file itself). */

const root = fileURLToPath(new URL('..', import.meta.url));

/** A product and an open sale, made directly (no scheduler needed). */
export async function openSaleNow(ctx: Context, quantity: number, priceCents = 1_000, holdSeconds = 3600): Promise<{ saleId: string; productId: string }> {
  const product = await createProduct(ctx, { sku: `settle-${randomUUID()}`, name: 'Thing', priceCents: priceCents * 2, stock: quantity });
  const now = Date.now();
  const sale = await createSale(ctx, {
    productId: product.id, quantity, priceCents, perUserLimit: 10_000, holdSeconds, waitingRoom: false,
    startsAt: new Date(now), endsAt: new Date(now + 3_600_000), powDifficulty: 0,
  });
  await openSale(ctx, sale.id);
  return { saleId: String(sale.id), productId: String(product.id) };
}

/** One hold of `quantity` units per user id, through the reserve script. */
export async function holdsFor(ctx: Context, saleId: string, userIds: string[], quantity = 1): Promise<string[]> {
  const keys = reserveKeys(saleKeys(ctx.config.redisPrefix, saleId));
  return Promise.all(
    userIds.map(async (userId) => {
      const [status, rid] = await reserveScript(ctx.redis, keys, { userId, quantity, idempotencyKey: '', jti: '', markerSeconds: 60 }, Date.now());
      if (status !== 'OK') throw new Error(`reserve: ${status}`);
      return rid;
    }),
  );
}

/** The environment that gives a worker process this config's connections and settlement settings. */
export function workerEnv(config: Config): Record<string, string> {
  const env: Record<string, string | undefined> = {
    LOG_LEVEL: 'info',
    REDIS_URL: config.redisUrl,
    DATABASE_URL: config.databaseUrl,
    REDIS_PREFIX: config.redisPrefix,
    DB_SCHEMA: config.dbSchema,
    PSP_URL: config.pspUrl,
    PSP_TIMEOUT_MS: String(config.pspTimeoutMs),
    SETTLE_ATTEMPTS: String(config.settleAttempts),
    SETTLE_BACKOFF_MS: String(config.settleBackoffMs),
    SETTLE_LOCK_MS: String(config.settleLockMs),
    RECONCILE_INTERVAL_MS: String(config.reconcileIntervalMs),
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * `ready` resolves when a worker process logs that it started, and rejects (with the tail of its stderr)
 * when it exits before that; `exited` resolves when it exits.
 */
export function watchWorker(child: ChildProcess): { ready: Promise<void>; exited: Promise<void> } {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('settlement worker started')) resolve();
      if (out.length > 100_000) out = out.slice(-1000);
    });
    child.once('exit', (code, signal) => reject(new Error(`worker exited before starting (${code ?? signal})\n${stderr}`)));
  });
  return { ready, exited };
}

/** `npx tsx scripts/worker.ts` with this world's settings, as a real process. */
export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  /** SIGKILL to the whole process group (npx, tsx and node): a crash, nothing flushed. */
  kill: () => Promise<void>;
}

export function spawnWorker(config: Config, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn('npx', ['tsx', 'scripts/worker.ts'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test', ...workerEnv(config), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a kill reaches the node process under npx and tsx
  });
  const { ready, exited } = watchWorker(child);
  const kill = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited;
  };
  return { child, ready, exited, kill };
}
