import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { checkQueueRedis } from './redis-check.js';

let world: TestWorld;
let server: ChildProcess;
let evicting: Redis;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  world = await createTestWorld();
  // A Redis of this test's own, configured the wrong way (never reconfigure the shared one).
  const port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
  evicting = new Redis(`redis://127.0.0.1:${port}`, { retryStrategy: (n) => (n > 50 ? null : 100) });
  await evicting.ping();
});
afterAll(async () => {
  evicting?.disconnect();
  server?.kill('SIGKILL');
  await world?.cleanup();
});

it('a queue Redis that may evict keys is refused in production and warned about otherwise; noeviction passes', async () => {
  await expect(checkQueueRedis(world.ctx)).resolves.toMatchObject({ policy: 'noeviction' });
  await expect(checkQueueRedis(world.ctx, evicting)).resolves.toMatchObject({ policy: 'allkeys-lru', appendonly: 'no' });
  const production = { ...world.ctx, config: { ...world.ctx.config, env: 'production' as const } };
  await expect(checkQueueRedis(production, evicting)).rejects.toThrow(/noeviction/);
});

it('production refuses a Redis that never fsyncs (appendfsync no) and accepts always and everysec; the durability is reported', async () => {
  const { startOwnRedis } = await import('../test/own-redis.js');
  const production = { ...world.ctx, config: { ...world.ctx.config, env: 'production' as const } };
  for (const appendfsync of ['no', 'everysec', 'always'] as const) {
    const own = await startOwnRedis({ appendfsync });
    const client = new Redis(own.url);
    try {
      await expect(checkQueueRedis(world.ctx, client)).resolves.toMatchObject({ appendonly: 'yes', appendfsync });
      if (appendfsync === 'no') await expect(checkQueueRedis(production, client)).rejects.toThrow(/appendfsync no/);
      else await expect(checkQueueRedis(production, client)).resolves.toMatchObject({ appendfsync });
    } finally {
      client.disconnect();
      await own.cleanup();
    }
  }
});
