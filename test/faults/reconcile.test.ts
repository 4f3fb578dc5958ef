import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, makeUsers } from '../sales.js';
import { saleStats } from '../../reservation/index.js';
import { createSettlementServices, reconcileNow } from '../../settlement/index.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { startPsp, type PspProcess } from '../psp.js';
import { holdsFor, openSaleNow } from '../settlement-helpers.js';
import { report, saleFigures } from './invariants.js';

let psp: PspProcess;
let t: TestEngine;

beforeAll(async () => {
  psp = await startPsp({ hangMs: 60_000 });
  t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 300, settleBudgetMs: 1_500, settleBackoffMs: 100, settleBackoffMaxMs: 300, logLevel: 'silent' });
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

const pay = (rids: string[], users: Array<{ token: string }>, paymentMethod: string) =>
  Promise.all(rids.map((rid, i) => t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod }, headers: { 'idempotency-key': `k-${rid}` } })));

it('250 charges made while the PSP died, and 20 payments it never saw: one run refunds all 250, the 20 end not_charged, and the next run has nothing left', async () => {
  const { saleId } = await openSaleNow(t.ctx, 270, 900);
  const users = await makeUsers(t.ctx, 270);
  const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
  // The PSP records each charge and holds its answer; it dies before answering any.
  await pay(rids.slice(0, 250), users.slice(0, 250), 'pm_card_timeout');
  await eventually(async () => (await psp.stats()).charges.created === 250, 'the 250 charges recorded');
  await psp.kill();
  await pay(rids.slice(250), users.slice(250), 'pm_card_ok');
  // Each budget spent with the PSP down: every order failed with its payment unknown, every unit back.
  await eventually(async () => (await saleStats(t.ctx, saleId)).remaining === 270, 'every unit back', 60_000);
  await psp.restart();

  const services = createSettlementServices(t.ctx);
  const opts = { stuckAfterMs: 0, payments: { finalLookups: 2, finalAfterMs: 0 } };
  const started = Date.now();
  const first = await reconcileNow(services, saleId, opts);
  const firstRunMs = Date.now() - started;
  expect(first.drift).toMatchObject({ unknownChecked: 270, unknownRefunded: 250, unknownLeft: 20, unknownNotCharged: 0 });
  const second = await reconcileNow(services, saleId, opts);
  expect(second.drift).toMatchObject({ unknownChecked: 20, unknownNotCharged: 20, unknownLeft: 0 });
  const third = await reconcileNow(services, saleId, opts);
  expect(third.drift.unknownChecked).toBe(0);
  expect(third.ok).toBe(true);
  const payments = await t.ctx.db.query(
    `SELECT p.status, count(*)::int AS n FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.sale_id = $1 GROUP BY p.status ORDER BY p.status`,
    [saleId],
  );
  expect(payments.rows).toEqual([{ status: 'not_charged', n: 20 }, { status: 'refunded', n: 250 }]);

  const f = report({ ...(await saleFigures(t.ctx, services.provider, saleId, new Map(rids.map((rid, i) => [rid, users[i].id])), 'PSP killed with 250 charges unanswered; reconciliation')), recoveryMs: firstRunMs });
  expect(f).toMatchObject({ paidOrders: 0, charges: 250, refunds: 250, chargesWithoutOrder: 0, paidRefunded: 0, oversold: 0 });
});

it('a paid order refunded behind the engine\'s back, and a paid order with no charge, are each counted and listed for a person', async () => {
  const { saleId } = await openSaleNow(t.ctx, 5, 900);
  const users = await makeUsers(t.ctx, 3);
  const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
  await pay(rids.slice(0, 2), users.slice(0, 2), 'pm_card_ok');
  await eventually(async () => (await saleStats(t.ctx, saleId)).sold === 2, 'two orders paid');
  const services = createSettlementServices(t.ctx);
  const charge = await services.provider.findByKey(rids[0]);
  await services.provider.refund(charge!.id, 'by-hand-in-the-psp-dashboard');
  // A paid order whose charge never happened (written by hand, say).
  const { rows } = await t.ctx.db.query(`SELECT product_id FROM sales WHERE id = $1`, [saleId]);
  await services.writer.write({
    orderId: crypto.randomUUID(), userId: users[2].id, saleId, reservationId: rids[2], productId: String(rows[0].product_id),
    quantity: 1, unitPriceCents: 900, status: 'paid', createdAt: Date.now(), payment: { chargeId: null, status: 'succeeded' },
  });
  const result = await reconcileNow(services, saleId);
  expect(result.drift).toMatchObject({ paidChecked: 3, paidRefunded: 1, paidWithoutCharge: 1 });
  expect(result.ok).toBe(false);
  expect(result.mismatches).toEqual(expect.arrayContaining([
    expect.stringContaining(`reservation ${rids[0]} was refunded at the PSP`),
    expect.stringContaining(`reservation ${rids[2]} has no succeeded charge at the PSP`),
  ]));
  const view = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
  expect(view.body.stats.reconciliation.drift).toMatchObject({ paidRefunded: 1, paidWithoutCharge: 1 });
});
