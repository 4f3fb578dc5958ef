import type { Config } from './config.js';
import { createDb, type Db } from './db.js';
import { createLogger, type Logger } from './logger.js';
import { defineLua } from './lua.js';
import { createRedis, type Redis } from './redis.js';
import { Sessions } from './sessions.js';

/**
 * What every part of the engine is built from. One per process in production; one per test file in tests
 * (each with its own Redis key prefix and Postgres schema).
 */
export interface Context {
  config: Config;
  log: Logger;
  /** Commands (auto-pipelined). */
  redis: Redis;
  /** Subscriber connection for pub/sub (created lazily by whoever needs it via `newRedis`). */
  newRedis: (purpose: 'queue' | 'subscriber' | 'plain') => Redis;
  db: Db;
  /** Revoked shopper tokens (a local copy kept in step through Redis; the gateway starts it). */
  sessions: Sessions;
  /**
   * Connection for BullMQ queues and workers, and the prefix of each queue (under `config.redisPrefix`).
   * On a cluster each queue's prefix carries its own hash tag (`<prefix>bull:{<queue>}`): a BullMQ script
   * then touches one slot, and the queues spread over the masters. One node keeps `<prefix>bull`.
   */
  bull: { connection: Redis; prefixFor: (queue: string) => string };
  /** Registers something to stop when the context closes (workers, servers); run in reverse order. */
  onClose: (fn: () => Promise<void> | void) => void;
  close: () => Promise<void>;
}

export function createContext(config: Config): Context {
  if ((!config.redisUrl && !config.redisClusterNodes) || !config.databaseUrl) throw new Error('createContext needs redisUrl (or redisClusterNodes) and databaseUrl');
  const log = createLogger(config.logLevel);
  const extra: Redis[] = [];
  const newRedis = (purpose: 'queue' | 'subscriber' | 'plain') => {
    const r = createRedis(config, { forQueues: purpose !== 'plain', subscriber: purpose === 'subscriber', name: `fs-${purpose}` });
    extra.push(r);
    return r;
  };
  const redis = createRedis(config, { name: 'fs-cmd' });
  // Lua commands are defined before the first command: ioredis copies a client's scripts into each
  // auto-pipeline when it opens, so a script defined later is missing from a pipeline already open.
  defineLua(redis);
  const db = createDb(config.databaseUrl, config.dbSchema);
  db.on('error', (err) => log.warn({ err }, 'idle Postgres connection failed')); // e.g. Postgres restarted
  const bull = {
    connection: newRedis('queue'),
    prefixFor: (queue: string) => (config.redisClusterNodes ? `${config.redisPrefix}bull:{${queue}}` : `${config.redisPrefix}bull`),
  };
  const closers: Array<() => Promise<void> | void> = [];
  const sessions = new Sessions(redis, () => newRedis('subscriber'), config.redisPrefix, log, config.userTokenTtlSeconds * 1000);
  return {
    config,
    log,
    redis,
    newRedis,
    db,
    sessions,
    bull,
    onClose: (fn) => {
      closers.push(fn);
    },
    close: async () => {
      for (const c of closers.reverse()) {
        try {
          await c();
        } catch (err) {
          log.warn({ err }, 'error while closing');
        }
      }
      await Promise.all([redis, ...extra].map((r) => r.quit().catch(() => r.disconnect())));
      await db.end().catch(() => {});
    },
  };
}
