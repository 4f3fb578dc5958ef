import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeUsers } from './sales.js';
import { saleStats } from '../reservation/index.js';
import { createSettlementServices, reconcileNow, startSettlement } from '../settlement/index.js';
import { startDedicatedPostgres, type DedicatedPostgres } from './dedicated-postgres.js';
import { startTestEngine, type TestEngine } from './engine.js';
import { startPsp, type PspProcess } from './psp.js';
import { holdsFor, openSaleNow } from './settlement-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkoutAll(t: TestEngine, rids: string[], users: Array<{ token: string }>, paymentMethod = 'pm_card_ok') {
  return Promise.all(
    rids.map((rid, i) =>
      t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod }, headers: { 'idempotency-key': `k-${rid}` } }),
    ),
  );
}

describe('Postgres outage', () => {
  let pg: DedicatedPostgres;
  let psp: PspProcess;
  let t: TestEngine;
  let stopSettlement: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    psp = await startPsp({ latencyMs: '20-40' });
    // Only settlement's background work runs here: the other parts' loops are not what this test is about.
    t = await startTestEngine({ databaseUrl: pg.url, pspUrl: psp.url, settleAttempts: 20, settleBackoffMs: 100, workerConcurrency: 10 }, false);
    stopSettlement = await startSettlement(createSettlementServices(t.ctx));
  });
  afterAll(async () => {
    await stopSettlement?.();
    await t?.cleanup();
    await psp?.cleanup();
    await pg?.cleanup();
  });

  it('Postgres restarted during settlement: the jobs retry, and every order is written once, none lost', async () => {
    const N = 400;
    const { saleId } = await openSaleNow(t.ctx, N, 900);
    const users = await makeUsers(t.ctx, N);
    const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
    const written = async () => (await t.ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE sale_id = $1', [saleId])).rows[0].n as number;
    const replies = await checkoutAll(t, rids, users);
    expect(replies.every((r) => r.status === 202)).toBe(true);
    await eventually(async () => (await written()) >= 20, 'some orders before the outage');
    expect(await written()).toBeLessThan(N);
    await pg.stop();
    await sleep(3_000); // settlement keeps charging, and its order writes fail meanwhile
    await pg.start();
    await eventually(async () => (await saleStats(t.ctx, saleId)).sold === N, 'every hold to be sold', 90_000);
    const orders = await t.ctx.db.query(`SELECT reservation_id, status FROM orders WHERE sale_id = $1`, [saleId]);
    expect(orders.rows.length).toBe(N);
    expect(new Set(orders.rows.map((r) => r.reservation_id)).size).toBe(N);
    expect(orders.rows.every((r) => r.status === 'paid')).toBe(true);
    const charges = await psp.stats();
    expect(charges.charges.created).toBe(N);
    expect(charges.attempts.total).toBeGreaterThan(N); // jobs failed by the outage were charged again: same key, same charge
    const recon = await reconcileNow(createSettlementServices(t.ctx), saleId, { stuckAfterMs: 0 });
    expect(recon).toMatchObject({ ok: true, postgres: { paidUnits: N } });
  });
});

describe('PSP outage', () => {
  let psp: PspProcess;
  let t: TestEngine;
  beforeAll(async () => {
    psp = await startPsp();
    t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 300, settleAttempts: 3, settleBackoffMs: 100 });
  });
  afterAll(async () => {
    await t?.cleanup();
    await psp?.cleanup();
  });

  const payingLeft = async (saleId: string) => t.ctx.redis.zcard(`${t.config.redisPrefix}{sale:${saleId}}:paying`);

  it('with the simulator down, the jobs retry and then compensate: orders failed, units back, no hold left stuck', async () => {
    const N = 50;
    const { saleId } = await openSaleNow(t.ctx, N);
    const users = await makeUsers(t.ctx, N);
    const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
    await psp.kill();
    const replies = await checkoutAll(t, rids, users);
    expect(replies.every((r) => r.status === 202)).toBe(true);
    await eventually(async () => (await saleStats(t.ctx, saleId)).remaining === N, 'every unit back in stock', 60_000);
    const orders = await t.ctx.db.query(
      `SELECT o.status, p.status AS payment FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.sale_id = $1`,
      [saleId],
    );
    expect(orders.rows.length).toBe(N);
    expect(orders.rows.every((r) => r.status === 'failed' && r.payment === 'unknown')).toBe(true);
    expect(await saleStats(t.ctx, saleId)).toMatchObject({ remaining: N, held: 0, sold: 0 });
    expect(await payingLeft(saleId)).toBe(0);
    for (const [i, r] of replies.entries()) {
      expect((await t.api('GET', `/api/orders/${r.body.orderId}`, { token: users[i].token })).body.status).toBe('failed');
    }
    // Back up: the PSP never saw these payments, so reconciliation has nothing to refund.
    await psp.restart();
    const recon = await reconcileNow(createSettlementServices(t.ctx), saleId, { stuckAfterMs: 0 });
    expect(recon).toMatchObject({ ok: true, repaired: [] });
    expect((await psp.stats()).charges.created).toBe(0);
  });

  it('a charge that went through while the PSP then went down is refunded by reconciliation, never kept for a failed order', async () => {
    const { saleId } = await openSaleNow(t.ctx, 1);
    const [user] = await makeUsers(t.ctx, 1);
    const [rid] = await holdsFor(t.ctx, saleId, [user.id]);
    const reply = await checkoutAll(t, [rid], [user], 'pm_card_timeout');
    // The PSP records the charge and holds its answer; it dies before answering.
    await eventually(async () => (await psp.stats(rid)).key.chargeId, 'the charge to be recorded');
    await psp.kill();
    await eventually(async () => (await saleStats(t.ctx, saleId)).remaining === 1, 'the unit back in stock', 60_000);
    expect((await t.api('GET', `/api/orders/${reply[0].body.orderId}`, { token: user.token })).body.status).toBe('failed');
    await psp.restart();
    const recon = await reconcileNow(createSettlementServices(t.ctx), saleId, { stuckAfterMs: 0 });
    expect(recon.ok).toBe(true);
    expect(recon.repaired).toEqual([{ rid, action: 'refunded' }]);
    const payment = await t.ctx.db.query('SELECT status FROM payments WHERE idempotency_key = $1', [rid]);
    expect(payment.rows[0].status).toBe('refunded');
    const stats = await psp.stats();
    expect(stats.charges.created).toBe(1);
    expect(stats.refunds).toBe(1);
  });
});
