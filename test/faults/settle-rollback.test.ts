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
  t = await startTestEngine({ redisUrl: redis.url, pspUrl: psp.url, pspTimeoutMs: 2_000, settleBackoffMs: 100 });
});
afterAll(async () => {
  await t?.cleanup();
  await redis?.cleanup();
  await psp?.cleanup();
});

it('Redis rolled back past 30 paid checkouts, which the shoppers then check out again: the paid orders stand, nobody is refunded or charged twice; a hold lost with the rollback is a clear 404', async () => {
  const N = 30;
  const LATE = 5;
  const { saleId } = await makeSale(t, { quantity: N + LATE, perUserLimit: 1 });
  const users = await makeUsers(t.ctx, N);
  const late = await makeUsers(t.ctx, LATE);
  const acknowledged = new Map<string, string>();
  const rids = await Promise.all(
    users.map(async (u) => {
      const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 } });
      expect(r.status).toBe(201);
      acknowledged.set(r.body.reservationId, u.id);
      return r.body.reservationId as string;
    }),
  );
  await redis.snapshot(); // every hold is `held` in the copy
  // Acknowledged after the copy: lost with the rollback.
  const lateRids = await Promise.all(
    late.map(async (u) => {
      const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 } });
      expect(r.status).toBe(201);
      acknowledged.set(r.body.reservationId, u.id);
      return r.body.reservationId as string;
    }),
  );
  const pay = (key: string) =>
    Promise.all(rids.map((rid, i) => t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `${key}-${rid}` } })));
  const first = await pay('first');
  expect(first.every((r) => r.status === 202)).toBe(true);
  const paidCount = async () => (await t.ctx.db.query(`SELECT count(*)::int AS n FROM orders WHERE sale_id = $1 AND status = 'paid'`, [saleId])).rows[0].n as number;
  await eventually(async () => (await paidCount()) === N, 'every order paid', 60_000);

  // Redis forgets the checkouts: the holds read `held` again, with no checkout record.
  await redis.rollback();
  // Each checkout again is taken (202: settlement then finds the paid order) or, once the restart was noticed
  // and the sale rebuilt from Postgres (the hold is sold again), a clear 409 hold_expired. Never a 5xx.
  const again = await eventually(async () => {
    const r = await pay('again').catch(() => undefined);
    return r?.every((x) => x.status === 202 || (x.status === 409 && x.body.error.code === 'hold_expired')) ? r : undefined;
  }, 'checkouts to be answered again after the restart', 30_000);
  // The lost holds: a clear 404 at checkout, never a 5xx, nobody charged.
  const lostAnswers = await Promise.all(lateRids.map((rid, i) => t.api('POST', `/api/reservations/${rid}/checkout`, { token: late[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `late-${rid}` } })));
  expect(lostAnswers.map((r) => r.status)).toEqual(lateRids.map(() => 404));
  const present = (await Promise.all([...acknowledged.keys()].map((rid) => t.ctx.redis.hexists(`${t.config.redisPrefix}{sale:${saleId}}:records`, rid)))).filter(Boolean).length;
  // Settlement finds the paid order of each reservation: that is success, with the order that exists.
  await eventually(async () => {
    const stats = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
    return stats.body.stats?.sold === N;
  }, 'every hold sold again', 60_000);

  const orders = await t.ctx.db.query(
    `SELECT o.id, o.reservation_id, o.status, p.order_id AS payment_order, p.status AS payment_status, i.order_id AS item_order
     FROM orders o JOIN payments p ON p.idempotency_key = o.reservation_id LEFT JOIN order_items i ON i.order_id = o.id WHERE o.sale_id = $1`,
    [saleId],
  );
  expect(orders.rows.length).toBe(N);
  for (const o of orders.rows) {
    expect(o).toMatchObject({ status: 'paid', payment_status: 'succeeded', payment_order: o.id, item_order: o.id });
  }
  const firstIds = new Set(first.map((r) => r.body.orderId));
  expect(orders.rows.every((o) => firstIds.has(o.id))).toBe(true);
  expect(again.some((r) => r.status === 202 && firstIds.has(r.body.orderId))).toBe(false); // a second id was minted, and lost nothing

  const provider = createPaymentProvider({ ...t.config, pspUrl: psp.url }, t.ctx.db);
  const f = report({ ...(await saleFigures(t.ctx, provider, saleId, acknowledged, 'AOF rollback past paid checkouts, checked out again')), presentAfter: present });
  await provider.close();
  expect(present).toBe(N); // the late holds are gone; the others were in the copy
  expect(f).toMatchObject({ acknowledged: N + LATE, paidOrders: N, charges: N, refunds: 0, oversold: 0, paidRefunded: 0, chargesWithoutOrder: 0, heldByTwo: 0 });
  expect((await psp.stats()).refunds).toBe(0);
});
