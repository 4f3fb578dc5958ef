import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type LocalRedisCluster } from './redis-cluster.js';

let cluster: LocalRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.cleanup();
});

describe('local Redis Cluster harness', () => {
  it('runs 3 masters with a replica each; a master killed with -9 is replaced by its replica', async () => {
    const masters = cluster.masters();
    expect(masters).toHaveLength(3);
    const client = new Cluster(cluster.nodesSetting.split(',').map((hp) => ({ host: '127.0.0.1', port: Number(hp.split(':')[1]) })));
    try {
      await client.set('{a}x', '1');
      await client.set('{b}x', '2');
      const victim = masters[0];
      cluster.kill(victim);
      const deadline = Date.now() + 30_000;
      while (cluster.masters().length < 3 || cluster.masters().includes(victim)) {
        if (Date.now() > deadline) throw new Error('no failover');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await client.get('{a}x')).toBe('1');
      expect(await client.get('{b}x')).toBe('2');
    } finally {
      client.disconnect();
    }
  });
});
