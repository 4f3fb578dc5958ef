import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { parseClusterNodes } from '../infra/redis.js';
import { saleKeys } from '../reservation/index.js';
import { startTestEngine, type TestEngine } from './engine.js';
import { startPsp, type PspProcess } from './psp.js';
import { startRedisCluster, type LocalRedisCluster } from './redis-cluster.js';
import { eventually, makeSale, makeUsers } from './sales.js';
import { makeQueueSale, QueueClient } from './waiting-room.js';

/**
 * The whole engine on a local Redis Cluster (3 masters, 3 replicas): REDIS_CLUSTER_NODES makes every
 * client a Cluster client (commands, Lua, BullMQ, sharded pub/sub, leases).
 */
let cluster: LocalRedisCluster;
let psp: PspProcess;
let t: TestEngine;
type User = { id: string; token: string };

beforeAll(async () => {
  cluster = await startRedisCluster();
  psp = await startPsp();
  t = await startTestEngine({
    redisUrl: undefined,
    redisClusterNodes: parseClusterNodes(cluster.nodesSetting),
    pspUrl: psp.url,
    pspTimeoutMs: 1000,
    settleAttempts: 5,
    settleBackoffMs: 100,
  });
}, 120_000);
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
  await cluster?.cleanup();
}, 60_000);

async function stats(saleId: string) {
  const r = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
  return r.body.stats as { remaining: number; held: number; sold: number };
}

function reserve(user: User, saleId: string, headers: Record<string, string> = {}) {
  return t.api('POST', `/api/sales/${saleId}/reservations`, { token: user.token, body: { quantity: 1 }, headers });
}

async function payAndSettle(user: User, rid: string): Promise<{ status: string }> {
  const res = await t.api('POST', `/api/reservations/${rid}/checkout`, { token: user.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `k-${rid}` } });
  expect(res.status).toBe(202);
  return eventually(async () => {
    const r = await t.api('GET', `/api/orders/${res.body.orderId}`, { token: user.token });
    return r.status === 200 && r.body.status !== 'pending' ? r.body : undefined;
  }, `order ${res.body.orderId} to settle`, 30_000);
}

describe('the engine on a 3-master Redis Cluster', () => {
  it('sales on every master: 30 units, 400 concurrent shoppers each: exactly 30 held, checkouts settle into Postgres', async () => {
    // three sales, so that their {sale:<id>} slots land on more than one master
    const sales = await Promise.all([0, 1, 2].map(() => makeSale(t, { quantity: 30, perUserLimit: 1 })));
    const users = await makeUsers(t.ctx, 400);
    for (const { saleId } of sales) {
      const answers = await Promise.all(users.map((u) => reserve(u, saleId)));
      const held = answers.filter((a) => a.status === 201);
      expect(held).toHaveLength(30);
      expect(answers.filter((a) => a.status !== 201).every((a) => a.body.error.code === 'sold_out')).toBe(true);
      expect(await stats(saleId)).toMatchObject({ remaining: 0, held: 30, sold: 0 });
      // five of them pay: each order is paid through BullMQ and the PSP simulator
      const buyers = users.filter((_, i) => answers[i].status === 201).slice(0, 5);
      const rids = held.slice(0, 5).map((a) => a.body.reservationId as string);
      const orders = await Promise.all(buyers.map((u, i) => payAndSettle(u, rids[i])));
      expect(orders.map((o) => o.status)).toEqual(['paid', 'paid', 'paid', 'paid', 'paid']);
      expect(await stats(saleId)).toMatchObject({ remaining: 0, held: 25, sold: 5 });
    }
    const paid = await t.ctx.db.query(`SELECT count(*)::int AS n FROM payments WHERE status = 'succeeded'`);
    expect(paid.rows[0].n).toBe(15);
    expect((await psp.stats()).charges.created).toBe(15);
  }, 120_000);

  it('a waiting-room sale admits shoppers over WebSocket, an admitted shopper reserves, and closing the sale tells every socket', async () => {
    const saleId = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 5, batchSize: 5, intervalMs: 100 });
    const users = await makeUsers(t.ctx, 5);
    const clients = await Promise.all(users.map((u) => QueueClient.connect(t.url, saleId, u.token)));
    try {
      const grants = await Promise.all(clients.map((c) => c.waitType('admitted', 30_000)));
      expect(grants.every((g) => typeof g.admissionToken === 'string')).toBe(true);
      const r = await reserve(users[0], saleId, { 'admission-token': grants[0].admissionToken as string });
      expect(r.status).toBe(201);
      expect(await stats(saleId)).toMatchObject({ held: 1 });
      // closing the sale reaches every socket (sale status channel and broadcasts, over sharded pub/sub)
      expect((await t.api('POST', `/admin/sales/${saleId}/close`, { token: t.config.adminApiKey })).status).toBe(200);
      await Promise.all(clients.map((c) => c.waitType('closed', 30_000)));
    } finally {
      clients.forEach((c) => c.close());
    }
  }, 60_000);

  it('kill -9 of the master of a sale mid-stampede: its replica takes over, the engine goes on, nothing is oversold', async () => {
    const quantity = 300;
    const { saleId } = await makeSale(t, { quantity, perUserLimit: 1 });
    const users = await makeUsers(t.ctx, 900);
    const k = saleKeys(t.config.redisPrefix, saleId);
    const client = t.ctx.redis as unknown as Cluster;
    const slot = Number(await client.cluster('KEYSLOT', k.stock));
    const victim = Number(client.slots[slot][0].split(':').at(-1));
    expect(cluster.masters()).toContain(victim);

    const answers: Array<{ status: number; code?: string }> = [];
    let next = 0;
    let killed = false;
    // 40 shoppers at a time; the sale's master dies once 150 have been answered
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        while (next < users.length) {
          const u = users[next++];
          const r = await reserve(u, saleId);
          answers.push({ status: r.status, code: r.body?.error?.code });
          if (!killed && answers.length >= 150) {
            killed = true;
            cluster.kill(victim);
          }
        }
      }),
    );
    expect(killed).toBe(true);
    await eventually(async () => cluster.masters().length === 3 && !cluster.masters().includes(victim), 'a replica to take over', 30_000);
    // every answer is a hold, sold out, or a clean error while the slot had no master: never a crash
    for (const a of answers) {
      if (a.status === 201) continue;
      expect(a.code).toBeTypeOf('string');
      expect([409, 503, 500]).toContain(a.status);
    }
    // the engine works on the promoted replica: whoever still wants a unit gets one, up to the stock
    const retry = await Promise.all(users.slice(0, 400).map((u) => reserve(u, saleId)));
    expect(retry.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const s = await stats(saleId);
    expect(s.remaining + s.held + s.sold).toBe(quantity);
    expect(s.remaining).toBeGreaterThanOrEqual(0);
    const holds = await client.zcard(k.holds);
    expect(holds).toBe(s.held);
    expect(holds).toBeLessThanOrEqual(quantity);
    // and a checkout still settles through BullMQ into Postgres
    const buyer = users.find((_, i) => retry[i]?.status === 201 && retry[i].body.reservationId) ?? users[0];
    const rid = retry[users.indexOf(buyer)]?.body?.reservationId;
    if (rid) expect((await payAndSettle(buyer, rid)).status).toBe('paid');
  }, 120_000);
});
