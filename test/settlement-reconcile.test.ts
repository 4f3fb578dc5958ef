import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeUsers } from './sales.js';
import { beginCheckout, saleKeys, saleStats } from '../reservation/index.js';
import { createSettlementServices, reconcileNow, type SettlementServices } from '../settlement/index.js';
import { markSold, orderRow, type SettleJob } from '../settlement/settle.js';
import { startTestEngine, type TestEngine } from './engine.js';
import { startPsp, type PspProcess } from './psp.js';
import { holdsFor, openSaleNow } from './settlement-helpers.js';

let t: TestEngine;
let psp: PspProcess;
let services: SettlementServices;

beforeAll(async () => {
  psp = await startPsp();
  // No background work: no worker settles anything, so the test decides what state each checkout is in.
  t = await startTestEngine({ pspUrl: psp.url }, false);
  services = createSettlementServices(t.ctx);
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

/** A hold checked out (state paying) with no settlement job: what a crash right after the checkout leaves. */
async function checkedOut(saleId: string, userId: string): Promise<SettleJob> {
  const [rid] = await holdsFor(t.ctx, saleId, [userId]);
  const k = saleKeys(t.config.redisPrefix, saleId);
  const r = await beginCheckout(t.ctx.redis, k, { rid, userId, nowMs: Date.now(), idempotencyKey: `key-${rid}`, orderId: randomUUID(), paymentMethod: 'pm_card_ok' });
  expect(r.status).toBe('OK');
  const { orderId, quantity, unitPriceCents, productId, checkoutAt } = r;
  return { rid, saleId, userId, orderId, quantity, unitPriceCents, productId, paymentMethod: 'pm_card_ok', checkoutAt };
}

const charge = (job: SettleJob) => services.provider.charge({ idempotencyKey: job.rid, amountCents: job.quantity * job.unitPriceCents, paymentMethod: 'pm_card_ok' });
const adminView = async (saleId: string) => (await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey })).body;

it('a sale paid at the PSP but never written (sold in Redis, no order row) is found as a mismatch and repaired from the PSP record', async () => {
  const { saleId } = await openSaleNow(t.ctx, 5, 1_200);
  const [user] = await makeUsers(t.ctx, 1);
  const job = await checkedOut(saleId, user.id);
  const paid = await charge(job);
  expect(await markSold(t.ctx, job)).toBe('SOLD'); // steps 1 and 3 happened, the order write was lost

  const result = await reconcileNow(services, saleId);
  expect(result.found).toContain('paid units in Postgres 0 != sold in Redis 1');
  expect(result.found).toContain(`reservation ${job.rid} is sold in Redis but has no paid order in Postgres`);
  expect(result.repaired).toEqual([{ rid: job.rid, action: 'order_from_psp' }]);
  expect(result).toMatchObject({ ok: true, mismatches: [], redis: { quantity: 5, remaining: 4, held: 0, sold: 1 }, postgres: { paidOrders: 1, paidUnits: 1 } });
  const order = await t.api('GET', `/api/orders/${job.orderId}`, { token: user.token });
  expect(order.body).toMatchObject({ id: job.orderId, status: 'paid', totalCents: 1_200 });
  const payment = await t.ctx.db.query('SELECT charge_id, status FROM payments WHERE idempotency_key = $1', [job.rid]);
  expect(payment.rows).toEqual([{ charge_id: paid.id, status: 'succeeded' }]);
  expect((await adminView(saleId)).stats.reconciliation).toMatchObject({ ok: true, repaired: [{ rid: job.rid, action: 'order_from_psp' }] });
  expect((await psp.stats()).charges.created).toBe(1);
});

it('checkouts left stuck in paying by a crash are repaired: from the PSP record, from the order row, or settled again', async () => {
  const { saleId } = await openSaleNow(t.ctx, 10, 500);
  const users = await makeUsers(t.ctx, 4);
  const chargedNotWritten = await checkedOut(saleId, users[0].id);
  await charge(chargedNotWritten);
  const writtenNotSold = await checkedOut(saleId, users[1].id);
  const c2 = await charge(writtenNotSold);
  await services.writer.write(orderRow(writtenNotSold, 'paid', { chargeId: c2.id, status: 'succeeded' }));
  const neverCharged = await checkedOut(saleId, users[2].id);
  const declined = await checkedOut(saleId, users[3].id);
  await services.provider.charge({ idempotencyKey: declined.rid, amountCents: 500, paymentMethod: 'pm_card_declined' });

  // Young paying holds are in flight, not stuck: nothing is touched.
  const early = await reconcileNow(services, saleId);
  expect(early).toMatchObject({ ok: true, repaired: [], redis: { paying: 4, held: 4 } });

  const result = await reconcileNow(services, saleId, { stuckAfterMs: 0 });
  expect(new Map(result.repaired.map((r) => [r.rid, r.action]))).toEqual(
    new Map([
      [chargedNotWritten.rid, 'paid_from_psp'],
      [writtenNotSold.rid, 'marked_sold'],
      [neverCharged.rid, 'requeued'],
      [declined.rid, 'failed_from_psp'],
    ]),
  );
  expect(result).toMatchObject({ ok: true, redis: { remaining: 7, held: 1, sold: 2, paying: 1 } });
  expect(await services.queue.getJob(neverCharged.rid)).toBeTruthy(); // settled again by the worker
  const statuses = await t.ctx.db.query('SELECT reservation_id, status FROM orders WHERE sale_id = $1', [saleId]);
  expect(new Map(statuses.rows.map((r) => [r.reservation_id, r.status]))).toEqual(
    new Map([
      [chargedNotWritten.rid, 'paid'],
      [writtenNotSold.rid, 'paid'],
      [declined.rid, 'failed'],
    ]),
  );
  expect((await psp.stats()).charges.created).toBe(4); // no repair charged anyone
});

it('a counter broken on purpose is reported (logged, and shown in GET /admin/sales/:id), not papered over', async () => {
  const { saleId } = await openSaleNow(t.ctx, 3);
  const k = saleKeys(t.config.redisPrefix, saleId);
  await t.ctx.redis.hincrby(k.stats, 'held', 1);
  const result = await reconcileNow(services, saleId);
  expect(result.ok).toBe(false);
  expect(result.mismatches).toEqual(['quantity 3 != remaining 3 + held 1 + sold 0']);
  expect((await adminView(saleId)).stats.reconciliation).toMatchObject({ ok: false, mismatches: ['quantity 3 != remaining 3 + held 1 + sold 0'] });
  expect(await saleStats(t.ctx, saleId)).toMatchObject({ held: 1 });
  expect((await t.api('POST', `/admin/sales/${saleId}/reconcile`, { token: t.config.adminApiKey })).body.ok).toBe(false);
  expect((await t.api('POST', `/admin/sales/999999/reconcile`, { token: t.config.adminApiKey })).status).toBe(404);
  expect((await t.api('POST', `/admin/sales/${saleId}/reconcile`, {})).status).toBe(401);
});

it('with payment in flight, the order is pending: GET /api/orders/:id says so, and it is listed first', async () => {
  const { saleId } = await openSaleNow(t.ctx, 5, 800);
  const [user] = await makeUsers(t.ctx, 1);
  const [rid] = await holdsFor(t.ctx, saleId, [user.id]);
  const res = await t.api('POST', `/api/reservations/${rid}/checkout`, { token: user.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': 'p1' } });
  expect(res.status).toBe(202);
  const order = await t.api('GET', `/api/orders/${res.body.orderId}`, { token: user.token });
  expect(order.body).toEqual({ id: res.body.orderId, status: 'pending', totalCents: 800, items: [{ productId: expect.any(String), quantity: 1, unitPriceCents: 800 }], createdAt: expect.any(String) });
  const list = await t.api('GET', '/api/orders', { token: user.token });
  expect(list.body.orders.map((o: { id: string }) => o.id)).toEqual([res.body.orderId]);
  const [other] = await makeUsers(t.ctx, 1);
  expect((await t.api('GET', `/api/orders/${res.body.orderId}`, { token: other.token })).status).toBe(404);
  const jobId = await t.ctx.redis.hget(saleKeys(t.config.redisPrefix, saleId).checkout(rid), 'jobId');
  expect(await services.queue.getJob(jobId!)).toBeTruthy(); // the settlement job the hold recorded
});

it('200 checkouts at once share batch jobs: each hold is in exactly the job it recorded, and neither a replay nor reconciliation starts a second saga', async () => {
  const N = 200;
  const { saleId } = await openSaleNow(t.ctx, N, 300);
  const users = await makeUsers(t.ctx, N);
  const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
  const checkoutAll = () =>
    Promise.all(rids.map((rid, i) => t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `batch-${rid}` } })));
  const first = await checkoutAll();
  expect(first.every((r) => r.status === 202)).toBe(true);
  const k = saleKeys(t.config.redisPrefix, saleId);
  const jobIds = await Promise.all(rids.map((rid) => t.ctx.redis.hget(k.checkout(rid), 'jobId')));
  const settledBy = new Map<string, string[]>();
  for (const id of new Set(jobIds)) {
    const job = await services.queue.getJob(id!);
    const data = job!.data;
    for (const c of 'checkouts' in data ? data.checkouts : [data]) settledBy.set(c.rid, [...(settledBy.get(c.rid) ?? []), id!]);
  }
  expect(new Map(rids.map((rid) => [rid, settledBy.get(rid)]))).toEqual(new Map(rids.map((rid, i) => [rid, [jobIds[i]]])));

  const replay = await checkoutAll();
  expect(replay.map((r) => r.body.orderId)).toEqual(first.map((r) => r.body.orderId));
  expect(replay.every((r) => r.headers.get('idempotent-replayed') === 'true')).toBe(true);
  expect((await Promise.all(rids.map((rid) => services.queue.getJob(rid)))).filter(Boolean)).toEqual([]); // no job of its own
  const result = await reconcileNow(services, saleId, { stuckAfterMs: 0 });
  expect(result).toMatchObject({ ok: true, repaired: [], redis: { paying: N } });
});
