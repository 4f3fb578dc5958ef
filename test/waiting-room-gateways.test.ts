import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld } from './harness.js';
import { apiClient } from './engine.js';
import { eventually, makeUsers } from './sales.js';
import { queueKeys, tickerLeaseKey } from '../waiting-room/keys.js';
import { spawnGateway, type GatewayProcess } from '../waiting-room/gateways.js';
import { makeQueueSale, QueueClient, sleep } from './waiting-room.js';

/** Several real gateway processes against one Redis and one Postgres schema. */
let world: TestWorld;
let a: GatewayProcess; // runs background work (ticker)
let b: GatewayProcess; // gateway only: --no-background
const gateways: GatewayProcess[] = [];

function envOf(w: TestWorld): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: w.config.redisUrl,
    DATABASE_URL: w.config.databaseUrl,
    REDIS_PREFIX: w.config.redisPrefix,
    DB_SCHEMA: w.config.dbSchema,
    ADMIN_API_KEY: w.config.adminApiKey,
    TOKEN_SECRET: w.config.tokenSecret,
    NODE_ENV: 'test',
    MAX_CONNECTIONS_PER_IP: '10000',
    DISCONNECT_GRACE_SECONDS: '10',
  };
}

beforeAll(async () => {
  world = await createTestWorld();
  a = await spawnGateway(envOf(world));
  gateways.push(a);
  await eventually(async () => (await world.ctx.redis.exists(tickerLeaseKey(world.config.redisPrefix))) === 1, 'gateway A to take the ticker lease');
  b = await spawnGateway(envOf(world), { background: false });
  gateways.push(b);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await world?.cleanup();
});

const ticketOf = async (c: QueueClient) => (await c.waitFor((m) => m.type === 'queued' && typeof m.ticket === 'number', 'a ticket')).ticket as number;

describe('waiting room across gateway processes', () => {
  it('a client on gateway B sees the ticks and the admission made by gateway A, and keeps its place when it moves between gateways', async () => {
    const api = apiClient(a.url);
    const saleId = await makeQueueSale(api, world.config.adminApiKey, { quantity: 1, overAdmissionFactor: 1, batchSize: 1, intervalMs: 100 });
    const [x, u] = await makeUsers(world.ctx, 2);
    const head = await QueueClient.connect(a.url, saleId, x.token);
    const grant = await head.waitType('admitted');
    const onB = await QueueClient.connect(b.url, saleId, u.token);
    const ticket = await ticketOf(onB);
    expect(ticket).toBe(2);
    await onB.waitFor((m) => m.type === 'position' && m.serving === 1, 'a tick broadcast on B');

    // a second socket on A takes the place over: B's socket is closed as replaced
    const onA = await QueueClient.connect(a.url, saleId, u.token);
    expect(await ticketOf(onA)).toBe(ticket);
    expect((await onB.waitClosed()).code).toBe(4001);
    onA.kill();
    const backOnB = await QueueClient.connect(b.url, saleId, u.token);
    expect(await ticketOf(backOnB)).toBe(ticket);

    // x buys and gives the unit back: A's ticker admits u, whose socket is on B
    const r = await api('POST', `/api/sales/${saleId}/reservations`, { token: x.token, body: { quantity: 1 }, headers: { 'admission-token': grant.admissionToken as string } });
    expect(r.status).toBe(201);
    expect((await apiClient(b.url)('DELETE', `/api/reservations/${r.body.reservationId}`, { token: x.token })).status).toBe(200);
    const admitted = await backOnB.waitType('admitted');
    expect(typeof admitted.admissionToken).toBe('string');
    head.close();
    backOnB.close();
  });

  it('two gateway processes running the ticker produce exactly one admission tick per interval, also when the lease holder crashes', async () => {
    const c = await spawnGateway(envOf(world));
    gateways.push(c);
    const api = apiClient(c.url);
    const interval = 200;
    const saleId = await makeQueueSale(api, world.config.adminApiKey, { quantity: 500, batchSize: 1, intervalMs: interval, windowSeconds: 300 });
    const users = await makeUsers(world.ctx, 40);
    const started = Date.now();
    const clients = await Promise.all(users.map((u, i) => QueueClient.connect(i % 2 ? c.url : a.url, saleId, u.token)));
    await Promise.all(clients.map(ticketOf));
    await sleep(1500);
    await a.kill(); // a held the lease: c takes over after it lapses
    const onC = clients.filter((_, i) => i % 2);
    await sleep(2000);
    const k = queueKeys(world.config.redisPrefix, saleId);
    const scores = (await world.ctx.redis.zrange(k.admitted, '0', '-1', 'WITHSCORES')).filter((_, i) => i % 2).map(Number);
    const elapsed = Date.now() - started;
    const slots = scores.map((s) => Math.floor((s - 300_000) / interval));
    expect(scores.length).toBeGreaterThan(3);
    expect(new Set(slots).size).toBe(slots.length); // batch 1: one admission per tick, never two ticks in one slot
    expect(scores.length).toBeLessThanOrEqual(Math.ceil(elapsed / interval) + 1);
    // every client on C saw the ticks in order, none twice: with one admission per tick the serving
    // position goes up by one per tick, so between two broadcasts by at least one and by at most the ticks
    // of the client's tier period (nextRefreshMs, waiting-room/tiers.ts); in the head tier by exactly one
    for (const cl of onC) {
      const b = cl.of('position').filter((m) => typeof m.serving === 'number');
      for (let i = 1; i < b.length; i++) {
        const step = (b[i].serving as number) - (b[i - 1].serving as number);
        const period = Math.max(b[i].nextRefreshMs as number, b[i - 1].nextRefreshMs as number) / interval;
        expect(step).toBeGreaterThanOrEqual(1);
        expect(step).toBeLessThanOrEqual(period);
      }
    }
    clients.forEach((cl) => cl.close());
  });
});
