import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

/** Where Redis is: one node (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES, which wins when both are set). */
export interface RedisTarget {
  redisUrl: string | undefined;
  redisClusterNodes: ClusterNode[] | undefined;
}

/**
 * A Redis client. `forQueues` gives the settings BullMQ needs (blocking commands must not time out).
 * Keys are prefixed by hand through the key builders, never with ioredis `keyPrefix`, which BullMQ forbids.
 *
 * With cluster nodes the client is an ioredis `Cluster`, typed as `Redis`: both take the same commands,
 * `defineCommand` and auto-pipelining (a Cluster pipelines per node). Keys of one command or script must
 * share a hash slot there; `isCluster` tells the few places that must act differently (pub/sub, SCAN,
 * CONFIG, BullMQ prefixes, cross-slot batches).
 */
export function createRedis(target: RedisTarget | string, opts: { forQueues?: boolean; subscriber?: boolean; name?: string } = {}): Redis {
  const t: RedisTarget = typeof target === 'string' ? { redisUrl: target, redisClusterNodes: undefined } : target;
  const options: RedisOptions = {
    connectionName: opts.name,
    enableAutoPipelining: !opts.forQueues,
    maxRetriesPerRequest: opts.forQueues ? null : 3,
    lazyConnect: false,
  };
  if (t.redisClusterNodes?.length) {
    const cluster = new Cluster(t.redisClusterNodes, {
      enableAutoPipelining: !opts.forQueues,
      // a subscriber takes each sharded channel on the master of its slot, and again after a fail-over
      // (it keeps one connection per master, so only subscriber clients get it)
      shardedSubscribers: opts.subscriber === true,
      redisOptions: { connectionName: opts.name, maxRetriesPerRequest: opts.forQueues ? null : 3 },
      // a fail-over takes a few seconds (cluster-node-timeout plus the election): keep retrying meanwhile
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 200,
      maxRedirections: 32,
    });
    return cluster as unknown as Redis;
  }
  if (!t.redisUrl) throw new Error('no Redis configured: set REDIS_URL or REDIS_CLUSTER_NODES');
  return new Redis(t.redisUrl, options);
}

/** True for a Redis Cluster client. */
export const isCluster = (redis: Redis): boolean => (redis as { isCluster?: boolean }).isCluster === true;

/** The master nodes of a cluster (each a plain client), or the client itself on one node. */
export function masters(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/** "host:port,host:port" as REDIS_CLUSTER_NODES takes it. */
export function parseClusterNodes(setting: string): ClusterNode[] {
  return setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      const m = /^(.+):(\d+)$/.exec(hp);
      if (!m) throw new Error(`REDIS_CLUSTER_NODES takes host:port,host:port,...; got "${hp}"`);
      return { host: m[1], port: Number(m[2]) };
    });
}

/**
 * Pub/sub that works on both: PUBLISH/SUBSCRIBE on one node, sharded SPUBLISH/SSUBSCRIBE on a cluster (a
 * sharded message goes to the master of the channel's slot and its replicas only, not to every node).
 */
export function publish(redis: Redis, channel: string, message: string): Promise<number> {
  return (isCluster(redis) ? redis.spublish(channel, message) : redis.publish(channel, message)) as Promise<number>;
}

/** Subscribes `sub` (a connection used for nothing else) to `channels`; messages go to `onMessage`. */
export async function subscribe(sub: Redis, channels: string[], onMessage: (channel: string, message: string) => void): Promise<void> {
  if (isCluster(sub)) {
    sub.on('smessage', onMessage);
    for (const c of channels) await ssubscribe(sub, c);
  } else {
    sub.on('message', onMessage);
    await sub.subscribe(...channels);
  }
}

/** SSUBSCRIBE, retried while the client is still starting its per-master subscribers (ioredis starts them after 'ready'). */
async function ssubscribe(sub: Redis, channel: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await sub.ssubscribe(channel);
      return;
    } catch (err) {
      if (attempt >= 100 || !/No sharded subscriber/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function unsubscribe(sub: Redis, channels: string[]): Promise<void> {
  if (isCluster(sub)) {
    for (const c of channels) await sub.sunsubscribe(c);
  } else await sub.unsubscribe(...channels);
}

export type { Redis };
