import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis client. `forQueues` gives the settings BullMQ needs (blocking commands must not time out).
 * Keys are prefixed by hand through the key builders, never with ioredis `keyPrefix`, which BullMQ forbids.
 */
export function createRedis(url: string, opts: { forQueues?: boolean; name?: string } = {}): Redis {
  const options: RedisOptions = {
    connectionName: opts.name,
    enableAutoPipelining: !opts.forQueues,
    maxRetriesPerRequest: opts.forQueues ? null : 3,
    lazyConnect: false,
  };
  return new Redis(url, options);
}

export type { Redis };
