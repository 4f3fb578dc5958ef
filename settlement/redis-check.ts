import type { Context } from '../infra/context.js';
import { isCluster, masters, type Redis } from '../infra/redis.js';

export interface RedisDurability {
  policy: string | null;
  appendonly: string | null;
  appendfsync: string | null;
}

/** What each persistence setting means for an acknowledged reservation or checkout (logged at start). */
function durabilityOf(appendonly: string | null, appendfsync: string | null): string {
  if (appendonly !== 'yes') return 'no AOF: a Redis crash loses every hold and queued checkout since the last snapshot';
  if (appendfsync === 'always') return 'AOF fsynced before every answer: an acknowledged write survives a crash of Redis or of its host';
  if (appendfsync === 'everysec') return 'AOF fsynced every second: a host crash or power cut can lose the last second of acknowledged writes';
  return 'AOF never fsynced by Redis (appendfsync no): a host crash can lose about 30 s of acknowledged writes';
}

/**
 * The Redis behind holds, queues and settlement: an evicted or lost key is a lost hold or order. It must run
 * with `maxmemory-policy noeviction` (refused in production, a warning otherwise). Its persistence is logged
 * at start: the engine's own Redis runs `appendonly yes` + `appendfsync always`; with an external one the log
 * says which durability it gets, and production refuses `appendfsync no` (or no AOF at all). On a Redis
 * Cluster every master is checked, and the first one that falls short answers for the cluster.
 */
export async function checkQueueRedis(ctx: Context, redis: Redis = ctx.bull.connection): Promise<RedisDurability> {
  if (!isCluster(redis)) return checkNode(ctx, redis);
  await redis.ping(); // the cluster has connected and knows its masters
  const all = await Promise.all(masters(redis).map((node) => checkNode(ctx, node)));
  return all.find((r) => r.policy !== 'noeviction') ?? all.find((r) => r.appendonly !== 'yes') ?? all.find((r) => r.appendfsync !== 'always') ?? all[0];
}

async function checkNode(ctx: Context, redis: Redis): Promise<RedisDurability> {
  const node = `${redis.options.host}:${redis.options.port}`;
  const found: RedisDurability = { policy: null, appendonly: null, appendfsync: null };
  try {
    const [p, a, f] = (await Promise.all([redis.config('GET', 'maxmemory-policy'), redis.config('GET', 'appendonly'), redis.config('GET', 'appendfsync')])) as string[][];
    found.policy = p[1] ?? null;
    found.appendonly = a[1] ?? null;
    found.appendfsync = f[1] ?? null;
  } catch (err) {
    ctx.log.warn({ err }, 'cannot read the Redis configuration (CONFIG GET refused): durability unknown; run it with maxmemory-policy noeviction, appendonly yes, appendfsync always');
    return found;
  }
  const production = ctx.config.env === 'production';
  if (found.policy !== 'noeviction') {
    const message = `the queue Redis (${node}) has maxmemory-policy "${found.policy}": it must be "noeviction", or settlement jobs can be evicted and orders lost`;
    if (production) throw new Error(message);
    ctx.log.warn(message);
  }
  const durability = durabilityOf(found.appendonly, found.appendfsync);
  if (production && (found.appendonly !== 'yes' || found.appendfsync === 'no')) {
    throw new Error(`Redis durability refused in production: ${durability}; use appendonly yes with appendfsync always (or everysec)`);
  }
  ctx.log.info({ node, appendonly: found.appendonly, appendfsync: found.appendfsync }, `Redis durability: ${durability}`);
  return found;
}
