import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, makeSale, makeUsers } from '../sales.js';
import { createPaymentProvider } from '../../settlement/psp-client.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { startOwnRedis, type OwnRedis } from '../own-redis.js';
import { startPsp, type PspProcess } from '../psp.js';
import { report, saleFigures } from './invariants.js';

let redis: OwnRedis;
let psp: PspProcess;
let t: TestEngine;

beforeAll(async () => {
  redis = await startOwnRedis();
  psp = await startPsp();
  t = await startTestEngine({ redisUrl: redis.url, pspUrl: psp.url, pspTimeoutMs: 2_000, settleBackoffMs: 100, logLevel: 'fatal' });
});
afterAll(async () => {
  await t?.cleanup();
  await redis?.cleanup();
  await psp?.cleanup();
});

type User = { id: string; token: string };
const Q = 60;

it('Redis rolled back past 30 paid orders of a 60-unit sale: the restart is noticed, the sale rebuilt from Postgres, and a crowd buying the rest gets exactly the 10 units left', async () => {
  const { saleId } = await makeSale(t, { quantity: Q, perUserLimit: 1 });
  const acknowledged = new Map<string, string>();
  const reserveAs = async (u: User) => {
    const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 } });
    if (r.status === 201) acknowledged.set(r.body.reservationId, u.id);
    return r;
  };
  const buy = async (group: User[]) => {
    const holds = await Promise.all(group.map(reserveAs));
    const paid = holds.map((h, i) => (h.status === 201 ? { rid: h.body.reservationId as string, user: group[i] } : null)).filter((x) => x !== null);
    const answers = await Promise.all(paid.map((p) => t.api('POST', `/api/reservations/${p.rid}/checkout`, { token: p.user.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `k-${p.rid}` } })));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    return { holds, paid };
  };
  const paidOrders = async () => (await t.ctx.db.query(`SELECT count(*)::int AS n FROM orders WHERE sale_id = $1 AND status = 'paid'`, [saleId])).rows[0].n as number;

  const before = await makeUsers(t.ctx, 20);
  await buy(before);
  await eventually(async () => (await paidOrders()) === 20, 'the first 20 paid');
  await redis.snapshot();
  const lost = await makeUsers(t.ctx, 30);
  const lostBuy = await buy(lost);
  await eventually(async () => (await paidOrders()) === 50, '30 more paid, then lost by Redis', 30_000);

  await redis.rollback(); // Redis now believes 20 sold and 40 in stock; Postgres has 50 paid
  const restartedAt = Date.now();
  const statsKey = `${t.config.redisPrefix}{sale:${saleId}}:stats`;
  const presentAfter = (await Promise.all([...acknowledged.keys()].map((rid) => t.ctx.redis.hexists(`${t.config.redisPrefix}{sale:${saleId}}:records`, rid)))).filter(Boolean).length;
  await eventually(async () => Number(await t.ctx.redis.hget(statsKey, 'recoveries').catch(() => 0)) >= 1, 'the sale to be rebuilt', 30_000);
  const recoveryMs = Date.now() - restartedAt;

  // A crowd of 40 for the 10 units left: exactly 10 get one (503 sale_recovering would be retried).
  const crowd = await makeUsers(t.ctx, 40);
  const after = await buy(crowd);
  expect(after.holds.filter((h) => h.status === 201).length).toBe(10);
  expect(after.holds.filter((h) => h.status !== 201).every((h) => h.status === 409 && h.body.error.code === 'sold_out')).toBe(true);
  await eventually(async () => (await paidOrders()) === Q, 'every unit paid', 30_000);

  // The shoppers whose paid checkouts Redis forgot: a clear 409, never charged again.
  const again = await Promise.all(lostBuy.paid.map((p) => t.api('POST', `/api/reservations/${p.rid}/checkout`, { token: p.user.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `again-${p.rid}` } })));
  expect(again.every((a) => a.status === 409)).toBe(true);

  const provider = createPaymentProvider({ ...t.config, pspUrl: psp.url }, t.ctx.db);
  const f = report({ ...(await saleFigures(t.ctx, provider, saleId, acknowledged, 'AOF rollback past 30 paid orders, then a crowd for the rest')), presentAfter, recoveryMs });
  await provider.close();
  expect(presentAfter).toBe(20);
  expect(f).toMatchObject({ paidOrders: Q, paidUnits: Q, charges: Q, refunds: 0, oversold: 0, paidRefunded: 0, chargesWithoutOrder: 0, heldByTwo: 0 });
  const view = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
  expect(view.body.stats).toMatchObject({ remaining: 0, held: 0, sold: Q });
});

it('a fenced sale answers 503 sale_recovering with Retry-After, and serves again once the fence is lifted', async () => {
  const { saleId } = await makeSale(t, { quantity: 5 });
  const [u] = await makeUsers(t.ctx, 1);
  const meta = `${t.config.redisPrefix}{sale:${saleId}}:meta`;
  await t.ctx.redis.hset(meta, 'fenced', '1');
  const fenced = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 } });
  expect(fenced.status).toBe(503);
  expect(fenced.body.error.code).toBe('sale_recovering');
  expect(fenced.headers.get('retry-after')).toBe('1');
  await t.ctx.redis.hdel(meta, 'fenced');
  expect((await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 } })).status).toBe(201);
});
