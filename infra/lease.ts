import type { Redis } from './redis.js';

/**
 * A Redis lease: at most one holder across every process sharing the Redis. Used so that periodic work
 * (the hold sweeper, waiting-room admission ticks) runs once per interval however many processes run.
 * `SET key owner NX PX ttl` takes it; a compare-and-set script renews or releases it only for the owner.
 */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export async function tryAcquire(redis: Redis, key: string, owner: string, ttlMs: number): Promise<boolean> {
  const held = await redis.eval(RENEW, 1, key, owner, ttlMs);
  if (held === 1) return true;
  return (await redis.set(key, owner, 'PX', ttlMs, 'NX')) === 'OK';
}

export async function release(redis: Redis, key: string, owner: string): Promise<void> {
  await redis.eval(RELEASE, 1, key, owner);
}

/**
 * Runs `tick` every `intervalMs` while this process holds the lease `key`. Returns a stop function.
 * A tick that throws is reported to `onError` and the loop goes on.
 */
export function runWithLease(
  redis: Redis,
  key: string,
  owner: string,
  intervalMs: number,
  tick: () => Promise<void>,
  onError: (err: unknown) => void,
): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const ttl = Math.max(intervalMs * 3, 1000);
  const loop = async () => {
    if (stopped) return;
    try {
      if (await tryAcquire(redis, key, owner, ttl)) await tick();
    } catch (err) {
      onError(err);
    }
  };
  const timer = setInterval(() => {
    running = running.then(loop);
  }, intervalMs);
  timer.unref?.();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
    await release(redis, key, owner).catch(() => {});
  };
}
