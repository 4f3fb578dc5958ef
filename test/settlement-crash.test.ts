import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, makeUsers } from './sales.js';
import { saleStats } from '../reservation/index.js';
import { createSettlementServices, reconcileNow } from '../settlement/index.js';
import { startTestEngine, type TestEngine } from './engine.js';
import { startPsp, type PspProcess } from './psp.js';
import { holdsFor, openSaleNow, spawnWorker, type WorkerProcess } from './settlement-helpers.js';

let t: TestEngine;
let psp: PspProcess;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  psp = await startPsp({ latencyMs: '5-40' });
  // The engine here only serves HTTP: settlement runs in separate worker processes.
  t = await startTestEngine({ pspUrl: psp.url, settleLockMs: 2_000, settleBackoffMs: 100 }, false);
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await t?.cleanup();
  await psp?.cleanup();
});

it('1,000 checkouts in flight, worker SIGKILLed and restarted: every paid reservation has exactly one order and one charge, none lost', async () => {
  const N = 1_000;
  const { saleId } = await openSaleNow(t.ctx, N, 700);
  const users = await makeUsers(t.ctx, N);
  const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
  const replies = await Promise.all(
    rids.map((rid, i) =>
      t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `crash-${rid}` } }),
    ),
  );
  expect(replies.every((r) => r.status === 202)).toBe(true);

  const first = spawnWorker(t.config, { WORKER_CONCURRENCY: '100' });
  workers.push(first);
  await first.ready;
  const paidCount = async () => (await t.ctx.db.query(`SELECT count(*)::int AS n FROM orders WHERE sale_id = $1`, [saleId])).rows[0].n as number;
  await eventually(async () => (await paidCount()) >= 100, 'some orders to be written before the crash', 60_000);
  await first.kill();
  const atCrash = await paidCount();
  expect(atCrash).toBeLessThan(N); // the kill came with checkouts still in flight

  const second = spawnWorker(t.config, { WORKER_CONCURRENCY: '100' });
  workers.push(second);
  await second.ready;
  await eventually(async () => (await saleStats(t.ctx, saleId)).sold === N, 'every hold to be sold', 90_000);

  const orders = await t.ctx.db.query(
    `SELECT o.reservation_id, o.status, o.id, p.charge_id, p.status AS payment FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.sale_id = $1`,
    [saleId],
  );
  expect(orders.rows.length).toBe(N);
  expect(new Set(orders.rows.map((r) => r.reservation_id))).toEqual(new Set(rids));
  expect(orders.rows.every((r) => r.status === 'paid' && r.payment === 'succeeded')).toBe(true);
  expect(new Set(orders.rows.map((r) => r.charge_id)).size).toBe(N);
  // The order ids are the ones the checkout answered with.
  expect(new Set(orders.rows.map((r) => r.id))).toEqual(new Set(replies.map((r) => r.body.orderId)));
  const stats = await psp.stats();
  expect(stats.charges.created).toBe(N); // one charge per reservation, whatever was retried
  expect(stats.charges.succeeded).toBe(N);
  expect(await saleStats(t.ctx, saleId)).toMatchObject({ remaining: 0, held: 0, sold: N });
  const recon = await reconcileNow(createSettlementServices(t.ctx), saleId, { stuckAfterMs: 0 });
  expect(recon).toMatchObject({ ok: true, mismatches: [], repaired: [], postgres: { paidOrders: N, paidUnits: N } });
});
