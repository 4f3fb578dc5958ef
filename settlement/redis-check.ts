import type { Context } from '../infra/context.js';
import { isCluster, masters, type Redis } from '../infra/redis.js';

/**
 * The queue Redis holds settlement jobs and paying holds: an evicted key is a lost order. It must run with
 * `maxmemory-policy noeviction` (refused in production, a warning otherwise) and should persist with
 * `appendonly yes` + `appendfsync everysec` (at most a second of writes lost on a power cut; a lost
 * checkout is then repaired by reconciliation from the PSP record). On a Redis Cluster every master is
 * checked, and the first one that falls short answers for the cluster.
 */
export async function checkQueueRedis(ctx: Context, redis: Redis = ctx.bull.connection): Promise<{ policy: string | null; appendonly: string | null }> {
  if (!isCluster(redis)) return checkNode(ctx, redis);
  await redis.ping(); // the cluster has connected and knows its masters
  const all = await Promise.all(masters(redis).map((node) => checkNode(ctx, node)));
  return all.find((r) => r.policy !== 'noeviction') ?? all.find((r) => r.appendonly !== 'yes') ?? all[0];
}

async function checkNode(ctx: Context, redis: Redis): Promise<{ policy: string | null; appendonly: string | null }> {
  let policy: string | null = null;
  let appendonly: string | null = null;
  const node = `${redis.options.host}:${redis.options.port}`;
  try {
    const p = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const a = (await redis.config('GET', 'appendonly')) as string[];
    policy = p[1] ?? null;
    appendonly = a[1] ?? null;
  } catch (err) {
    ctx.log.warn({ err }, 'cannot read the queue Redis configuration (CONFIG GET refused); make sure it runs with maxmemory-policy noeviction');
    return { policy, appendonly };
  }
  if (policy !== 'noeviction') {
    const message = `the queue Redis (${node}) has maxmemory-policy "${policy}": it must be "noeviction", or settlement jobs can be evicted and orders lost`;
    if (ctx.config.env === 'production') throw new Error(message);
    ctx.log.warn(message);
  }
  if (appendonly !== 'yes' && ctx.config.env === 'production') {
    ctx.log.warn(`the queue Redis (${node}) runs without AOF (appendonly no): a crash loses queued checkouts until reconciliation repairs them; use appendonly yes, appendfsync everysec`);
  }
  return { policy, appendonly };
}
